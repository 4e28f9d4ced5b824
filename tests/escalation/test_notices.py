"""What keyholders, owners and the operator desk are told: both languages, from the catalogue."""

from __future__ import annotations

from datetime import UTC, datetime

from shelterwatch.config import Settings
from shelterwatch.escalation import links, notices


def test_the_operator_is_alarmed_in_ukrainian_and_english() -> None:
    alarm = notices.operator(where="вул. Хрещатик, 22", tracking_id="KV-7F3K-2Q")
    assert alarm.title == ("Досі зачинене після ескалації: вул. Хрещатик, 22 / "
                           "Still locked after escalation delay: вул. Хрещатик, 22")
    uk, en = alarm.body.split("\n")
    assert "KV-7F3K-2Q" in uk and "силою" in uk
    assert en == ("Case KV-7F3K-2Q: the shelter at вул. Хрещатик, 22 is still reported locked. "
                  "Decide on forcing the door.")


def test_a_keyholder_hears_what_residents_reported() -> None:
    locked = notices.case(kind="locked", where="#5", tracking_id="KV-1")
    refused = notices.case(kind="refused", where="#5", tracking_id="KV-1")
    assert locked.title == "Укриття зачинене / Shelter reported LOCKED: #5"
    assert "refused entry" in refused.body and "не пускають" in refused.body
    assert locked.body.endswith("Open it now. Case KV-1.")


def test_an_owner_reads_the_kind_in_its_own_language() -> None:
    notice = notices.owner_report(shelter_id=9, kind="unfit", ident="KV-2")
    assert "«непридатне»" in notice.body and "as unfit" in notice.body


def test_the_check_in_link_opens_for_that_keyholder_and_shelter() -> None:
    settings = Settings(secret_key="k" * 32, public_base_url="https://sw.example/")
    now = datetime(2023, 6, 1, tzinfo=UTC)
    link = notices.check_in_link(settings, keyholder_id=4, shelter_id=88, now=now)
    assert link.startswith("https://sw.example/check-in/")
    grant = links.read_token(settings.secret_key, link.rsplit("/", 1)[1], now=now)
    assert (grant.keyholder_id, grant.shelter_id) == (4, 88)
