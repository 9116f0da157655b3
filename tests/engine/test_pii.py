"""Personal data masking: each kind in English and Chinese text, validated so that part
numbers, dates and measurements stay, and masked in answers as they stream."""

from __future__ import annotations

import pytest

from engine import pii

MASKED = [
    ("Write to john.smith@example.com today.", "Write to [email] today."),
    ("邮箱 zhangsan@example.cn。", "邮箱 [email]。"),
    ("Call +1 415-555-2671 or (020) 7946 0958.", "Call [phone] or [phone]."),
    ("手机 13800138000，座机 010-6552 9988。", "手机 [phone]，座机 [phone]。"),
    ("Card 4111 1111 1111 1111 expires 12/27.", "Card [card number] expires 12/27."),
    ("卡号 6222-0212-3456-7897 已冻结。", None),  # Luhn decides: checked below
    ("身份证号 11010519491231002X 已登记。", "身份证号 [ID number] 已登记。"),
    ("Call +1 415 555\n2671 at night.", "Call [phone] at night."),  # wrapped lines
    ("Card 4111 1111\n1111 1111 expires.", "Card [card number] expires."),
]
KEPT = [
    "Part number 4111111111111112 and order 2024-05-01.",  # fails Luhn
    "The ID 110105194912310021 is not valid.",  # wrong check character
    "Pump P-101 runs at 12.5 bar for 450 hours; valve 7 opens at 3,800 kPa.",
    "Version 10.0.19041.1 was released on 2020-05-27.",
    "Room 4111 1111 is on floor 2.",  # 8 digits: no card
]


@pytest.mark.parametrize("text,expected", [m for m in MASKED if m[1]])
def test_personal_data_is_masked(text, expected):
    assert pii.mask(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_look_alikes_are_kept(text):
    assert pii.mask(text) == text


def test_a_card_number_is_masked_only_when_its_check_digit_holds():
    from stdnum import luhn

    number = "622202123456789"
    good = number + luhn.calc_check_digit(number)
    bad = number + str((int(luhn.calc_check_digit(number)) + 1) % 10)
    assert pii.mask(f"卡号 {good} 已冻结。") == "卡号 [card number] 已冻结。"
    assert pii.mask(f"卡号 {bad} 已冻结。") == f"卡号 {bad} 已冻结。"


def test_a_stream_is_masked_however_its_pieces_fall():
    text = "Mail john.smith@example.com. Phone 138 0013 8000. Done"
    for size in (1, 2, 3, 5, 8):
        masker = pii.StreamMasker()
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
        shown = "".join(masker.feed(p) for p in pieces) + masker.finish()
        assert shown == "Mail [email]. Phone [phone]. Done", size


def test_answers_stream_masked_and_are_kept_as_made(service, tmp_path):
    (tmp_path / "contacts.txt").write_text(
        "Plant contacts.\n\nThe duty engineer for the boiler house is Ann Lee, reachable at "
        "ann.lee@plant.example and on +1 415-555-2671 around the clock.\n")
    service.library.ingest([tmp_path / "contacts.txt"])
    stream = service.answers.ask("How do I reach the duty engineer for the boiler house?")
    kept = []
    stream.on_done(kept.append)
    shown = "".join(stream.mask_personal_data())
    answer = stream.answer
    assert "ann.lee@plant.example" not in shown and "415-555-2671" not in shown
    assert answer.text == shown.strip()
    assert all("ann.lee" not in s.hit.text and "[email]" in s.hit.text
               for s in answer.sources if "duty engineer" in s.hit.text)
    assert "ann.lee@plant.example" in " ".join(s.hit.text for s in kept[0].sources)


def test_masked_at_ingest_the_library_never_holds_personal_data(open_service, config,
                                                               tmp_path):
    """With the setting on, documents are masked as they are read: passages, the document's
    text and full-text terms hold [email] and [phone], and pages still point right."""
    from dataclasses import replace

    from tests.conftest import make_pdf

    service = open_service(replace(config, mask_personal_data_at_ingest=True))
    make_pdf(tmp_path / "contacts.pdf", [
        "Plant contacts. The boiler house is staffed day and night by two operators.",
        "The duty engineer for the boiler house is Ann Lee, reachable at "
        "ann.lee@plant.example and on +1 415-555-2671 around the clock."])
    report = service.library.ingest([tmp_path / "contacts.pdf"])
    assert len(report.ingested) == 1, report.failed
    hit = service.answers.search("How do I reach the duty engineer for the boiler house?", 1)[0]
    assert hit.page == 2
    assert "reachable at [email] and on [phone] around" in " ".join(hit.text.split())
    stored = repr(service._vault.rows("SELECT text FROM documents")) + repr(
        service._vault.rows("SELECT text FROM chunks")) + repr(
        service._vault.rows("SELECT terms FROM chunks_fts"))
    assert "ann.lee" not in stored and "415" not in stored and "[email]" in stored
