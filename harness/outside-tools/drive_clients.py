"""Drives chapters 09 and 27 through Python clients generated from their specs (openapi-python-client), as an
outside user would: nothing here knows the harness. Run by harness/outside-tools/outside-tools.test.ts with the
generated packages on PYTHONPATH:

    python drive_clients.py <chapter 09 base URL> <chapter 27 base URL>

Prints one line per step and exits 1 at the first step whose answer is not what the spec promises.
"""

import sys
import uuid


def expect(condition, what):
    if not condition:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def drive_url_shortener(base_url):
    from chapter_09_client import Client
    from chapter_09_client.api.redirect import follow_short_url, get_link
    from chapter_09_client.api.shorten import shorten_url
    from chapter_09_client.models import Link, LinkStats, ShortenRequest

    client = Client(base_url=base_url, follow_redirects=False, raise_on_unexpected_status=True)
    long_url = f"https://example.com/outside-tools?run={uuid.uuid4().hex}"
    created = shorten_url.sync_detailed(client=client, body=ShortenRequest(long_url=long_url))
    expect(created.status_code == 201 and isinstance(created.parsed, Link), "09: shortenUrl answers 201 with a Link")
    link = created.parsed
    expect(link.long_url == long_url, "09: the link echoes the long URL")
    again = shorten_url.sync_detailed(client=client, body=ShortenRequest(long_url=long_url))
    expect(again.status_code == 200 and again.parsed.code == link.code, "09: the same long URL gets the same code")
    followed = follow_short_url.sync_detailed(link.code, client=client)
    expect(followed.status_code == 302, "09: followShortUrl answers 302")
    expect(followed.headers.get("location") == long_url, "09: Location is the long URL, byte for byte")
    stats = get_link.sync_detailed(link.code, client=client)
    expect(stats.status_code == 200 and isinstance(stats.parsed, LinkStats), "09: getLink answers 200 with LinkStats")
    expect(stats.parsed.long_url == long_url and stats.parsed.code == link.code, "09: getLink names the same link")


def drive_payment_system(base_url):
    from chapter_27_client import Client
    from chapter_27_client.api.pay_in import create_payment, get_payment_order
    from chapter_27_client.models import (
        BuyerInfo,
        Currency,
        PaymentEvent,
        PaymentEventRequest,
        PaymentOrder,
        PaymentOrderRequest,
    )

    client = Client(base_url=base_url, raise_on_unexpected_status=True)
    run = uuid.uuid4().hex[:12]
    order_id = f"po_py_{run}"
    request = PaymentEventRequest(
        checkout_id=f"chk_py_{run}",
        buyer_info=BuyerInfo(buyer_id="buyer_py"),
        payment_orders=[
            PaymentOrderRequest(
                payment_order_id=order_id, seller_account="SELLER_PY", amount="12.34", currency=Currency.EUR
            )
        ],
    )
    created = create_payment.sync_detailed(client=client, body=request, idempotency_key=f"key-{run}")
    expect(
        created.status_code == 201 and isinstance(created.parsed, PaymentEvent),
        "27: createPayment answers 201 with a PaymentEvent",
    )
    expect(created.parsed.payment_page_url.startswith("http"), "27: the event names a hosted payment page")
    order = get_payment_order.sync_detailed(order_id, client=client)
    expect(
        order.status_code == 200 and isinstance(order.parsed, PaymentOrder),
        "27: getPaymentOrder answers 200 with a PaymentOrder",
    )
    expect(
        order.parsed.amount == "12.34" and order.parsed.currency == Currency.EUR,
        "27: the order keeps its amount and currency",
    )
    replay = create_payment.sync_detailed(client=client, body=request, idempotency_key=f"key-{run}")
    expect(
        replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true",
        "27: the same key and body replay the stored answer",
    )


if __name__ == "__main__":
    drive_url_shortener(sys.argv[1])
    drive_payment_system(sys.argv[2])
