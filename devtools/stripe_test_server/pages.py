"""The hosted pages: test onboarding and test checkout. Plain HTML forms, no JavaScript.

They stand in for Stripe's hosted onboarding and Checkout pages so a developer (or a browser
test) can finish a paid booking without a Stripe account. They say plainly that they are a test.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .amounts import show

_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
.banner{background:#fff4ce;border:1px solid #e0c36a;padding:.5rem .75rem;border-radius:6px;font-size:.9rem}
table{width:100%;border-collapse:collapse;margin:1rem 0}td{padding:.35rem 0}td.n{text-align:right}
tr.total td{border-top:1px solid #ccd;font-weight:600}
label{display:block;margin:.6rem 0 .2rem}input[type=text],input[type=email]{width:100%;padding:.45rem}
button{display:block;width:100%;margin:.5rem 0;padding:.7rem;font-size:1rem;border-radius:6px;cursor:pointer}
button.primary{background:#635bff;color:#fff;border:0}
button.secondary{background:#fff;border:1px solid #889}
details{margin-top:1rem}
"""


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        "<p class=banner>Stripe-compatible <strong>test</strong> server. No real money moves.</p>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def onboarding(account: dict[str, Any], refresh_url: str) -> str:
    name = account["business_profile"].get("name") or account.get("email") or account["id"]
    return page(
        "Set up payments",
        f"<p>Account <code>{escape(account['id'])}</code> ({escape(str(name))}).</p>"
        "<p>On Stripe this is where the organisation enters its company details and bank account.</p>"
        "<form method=post><button class=primary type=submit name=action value=complete>"
        "Complete onboarding</button></form>"
        f'<p><a href="{escape(refresh_url)}">Leave without finishing</a></p>',
    )


def checkout(session: dict[str, Any], language: str = "en") -> str:
    currency = session["currency"]

    def money(amount: int) -> str:
        return escape(show(amount, currency, language))

    rows = "".join(
        f"<tr><td>{escape(item['description'])} &times; {item['quantity']}</td>"
        f"<td class=n>{money(item['amount_total'])}</td></tr>"
        for item in session["_line_items"]
    )
    tax = session["total_details"]["amount_tax"]
    rows += f"<tr><td>of which tax</td><td class=n>{money(tax)}</td></tr>" if tax else ""
    rows += f"<tr class=total><td>Total</td><td class=n>{money(session['amount_total'])}</td></tr>"
    status = session["status"]
    if status == "expired":
        return page("Checkout expired", f"<table>{rows}</table><p>This checkout session has expired.</p>")
    if status == "complete":
        payment_status = session["payment_status"]
        if payment_status == "paid":
            body = "<p>Payment received.</p>"
        else:
            body = (
                "<p>The payment is processing (a delayed payment method such as a SEPA debit).</p>"
                "<form method=post>"
                "<button class=primary name=action value=settle_succeed>The bank accepts the debit</button>"
                "<button class=secondary name=action value=settle_fail>The bank refuses the debit</button>"
                "</form>"
            )
        success = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        return page(
            "Checkout",
            f'<table>{rows}</table>{body}<p><a href="{escape(success)}">Back to the shop</a></p>',
        )
    email = session.get("customer_email") or ""
    fields = (
        "<label for=email>E-mail</label>"
        f'<input type=email id=email name=email value="{escape(email)}" required>'
        "<label for=name>Name on the card</label>"
        '<input type=text id=name name=name value="Test Visitor">'
    )
    if session["tax_id_collection"]["enabled"]:
        fields += (
            "<label for=company>Company name</label><input type=text id=company name=company>"
            "<label for=tax_id>VAT number</label>"
            '<input type=text id=tax_id name=tax_id placeholder="BE0123456789">'
        )
    return page(
        "Checkout",
        f"<table>{rows}</table><form method=post>{fields}"
        "<button class=primary type=submit name=action value=pay>"
        f"Pay {money(session['amount_total'])}</button>"
        "<button class=secondary type=submit name=action value=delayed>"
        "Pay by delayed debit (settles later)</button>"
        "<button class=secondary type=submit name=action value=abandon formnovalidate>"
        "Cancel and go back</button>"
        "<details><summary>More test cases</summary>"
        "<button class=secondary type=submit name=action value=pay_refunds_fail>"
        "Pay with a card whose refunds fail</button></details></form>",
    )


def message(title: str, text: str) -> str:
    return page(title, f"<p>{escape(text)}</p>")
