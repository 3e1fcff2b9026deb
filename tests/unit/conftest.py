"""Shared fixtures of the theme and codeframe tests: four clearly different topics on real MiniLM vectors."""
from __future__ import annotations

import numpy as np
import pytest

TOPICS: dict[str, tuple[str, ...]] = {
    "delivery": (
        "My parcel arrived two weeks late.", "The package still has not been delivered.",
        "The courier lost my order.", "Shipping took far longer than promised.",
        "Tracking has said out for delivery for five days.", "The delivery came a week after the expected date.",
        "My box was left at the wrong address.", "I am still waiting for my shipment.",
        "The driver never turned up with my parcel.", "Delivery was delayed again without notice.",
        "The order got stuck in transit at the depot.", "It took a month for the package to reach me.",
        "Parcels from this shop always arrive late.", "The courier marked it delivered but nothing came.",
        "Shipping times are far too slow.", "My parcel was returned to the sender by mistake.",
    ),
    "billing": (
        "I was charged twice for the same month.", "My invoice shows the wrong amount.",
        "There is an unexpected fee on my credit card.", "The refund still has not reached my bank account.",
        "They overcharged me on the last bill.", "A payment was taken after I had cancelled.",
        "The monthly charge doubled without explanation.", "I was billed for a plan I never ordered.",
        "My bank statement shows a duplicate payment.", "The invoice total does not match the price I agreed.",
        "I paid the bill but it still shows as unpaid.", "They took the money from my card on the wrong date.",
        "I need a refund for the incorrect charge.", "A hidden fee appeared on my invoice this month.",
        "Why was my card debited two times?", "The billing department charged the wrong account.",
    ),
    "crash": (
        "The app crashes every time I open it.", "It freezes and then closes by itself.",
        "Since the update the app keeps crashing.", "The mobile app shuts down when I tap settings.",
        "I get an error screen and the app quits.", "The app crashed and I lost my work.",
        "It force closes whenever I upload a photo.", "The iPhone app freezes on the loading screen.",
        "Constant crashes make the app unusable.", "The Android version crashes on startup.",
        "Every few minutes the application stops responding.", "The app hangs and I have to restart my phone.",
        "It crashed three times during one session.", "Opening the camera inside the app makes it crash.",
        "The desktop program freezes and quits unexpectedly.", "After the last release the app will not even launch.",
    ),
    "staff": (
        "The staff were friendly and helpful.", "The agent on the phone was very polite.",
        "The shop assistant treated me with respect.", "Everyone in the team was kind and patient.",
        "The support rep went out of her way to help me.", "Lovely people who made me feel welcome.",
        "The employee at the counter was cheerful and warm.", "The person I spoke to was courteous and caring.",
        "Their staff are always so pleasant.", "The receptionist greeted me with a big smile.",
        "The advisor was patient while I asked many questions.", "Such a friendly and welcoming crew.",
        "The manager was extremely kind to us.", "The waiter was attentive and very nice.",
        "The people working there are genuinely lovely.", "The cashier was polite and friendly.",
    ),
}


@pytest.fixture(scope="session")
def minilm():
    from insight.registry import get_embedder

    return get_embedder("minilm.v1")


@pytest.fixture(scope="session")
def topic_corpus(minilm):
    """(texts, gold topic names, embeddings) of the four topics, shuffled with a fixed seed."""
    rows = [(t, topic) for topic, texts in TOPICS.items() for t in texts]
    order = np.random.default_rng(0).permutation(len(rows))
    texts = [rows[i][0] for i in order]
    gold = np.array([rows[i][1] for i in order])
    return texts, gold, np.asarray(minilm.embed(texts), dtype=np.float32)
