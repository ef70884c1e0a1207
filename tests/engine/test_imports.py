"""The engine does not import the client side: webhook signing sits below both (issue 19's import circle)."""

from __future__ import annotations

import subprocess
import sys

CLIENT_SIDE = ("hearkit.webhooks", "hearkit.client", "hearkit._client")


def test_signing_a_delivery_loads_neither_the_receiver_nor_the_client() -> None:
    code = (
        "import sys, hearkit.engine.app;"
        "from hearkit.engine import delivery;"
        "(getattr(delivery, 'sign', None) or getattr(delivery, '_sign'))(b'{}', 'whsec_x');"
        f"print(sorted(m for m in {CLIENT_SIDE!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_receiver_and_the_engine_sign_with_one_function() -> None:
    import hearkit.engine.delivery as delivery
    import hearkit.webhook_signature as signature
    import hearkit.webhooks as webhooks

    assert delivery.sign is signature.sign is webhooks.sign
    assert webhooks.verify_signature is signature.verify_signature
