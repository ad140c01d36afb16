"""Real call exports (contract §2): Gong-style `Name (Title):` lines with timestamps,
Zoom and Teams WebVTT, SRT, first names, email local parts, and speakers who are no
attendee, whose words never count but are never lost silently."""

from __future__ import annotations

import json

import pytest

from esd.errors import InputError
from esd.extractors.formats import read_segments, speaker_head, to_ms
from esd.extractors.rules import RuleExtractor
from esd.extractors.transcript import Speakers, customer_turns, turns, unattributed
from esd.models import Attendee, Call
from esd.pipeline.collect import unattributed_speech

TOM = {"name": "Tom Becker", "title": "Senior CSM", "email": "tom.becker@lumen.example.com",
       "is_customer": False}
PRIYA = {"name": "Priya Shah", "title": "VP Data", "email": "priya.shah@acme.example",
         "is_customer": True}
INGRID = {"name": "Ingrid Ødegård", "title": "Head of IT", "email": "iodegard@acme.example",
          "is_customer": True}
SEAN = {"name": "Seán O’Brien", "email": "sean.obrien@acme.example", "is_customer": True}


def make_call(transcript_text: str | None = None, transcript: list | None = None,
              attendees=(TOM, PRIYA, INGRID)) -> Call:
    record = {"account_id": "a1", "call_id": "c1", "occurred_at": "2026-11-18T15:00:00Z",
              "attendees": list(attendees)}
    if transcript is not None:
        record["transcript"] = transcript
    else:
        record["transcript_text"] = transcript_text
    return Call.model_validate_json(json.dumps(record))


def said(call: Call) -> list[tuple[str | None, str]]:
    return [(t.speaker.name if t.speaker else None, " ".join(t.text.split()))
            for t in turns(call)]


GONG_EXPORT = """Acme Robotics <> Lumen | Quarterly business review
Recorded with Gong · 52 min

[00:00:04] Tom Becker (Senior CSM, Lumen): Morning! How was the offsite in Lisbon?
[00:00:09] Priya Shah (VP Data): Good, tiring. Ingrid’s still catching up on sleep.
[00:00:15] Ingrid: Guilty. Okay, headline first.
[00:14:02] Ingrid: Our security team needs SSO before we add the field teams,
and the security questionnaire came back with two open items.
[00:14:40] Tom Becker (Senior CSM, Lumen): Understood. 10:30 Thursday works for a review.
[00:15:10] Priya S.: We also need 40 more seats by January.
[00:16:02] Marcus (Acme Finance): Budget is approved for that, by the way.
[00:16:30] priya.shah: Let’s get the quote moving.
"""


def test_gong_export_with_titles_timestamps_first_names_and_an_unknown_speaker():
    call = make_call(GONG_EXPORT)
    assert said(call) == [
        (None, "Acme Robotics <> Lumen | Quarterly business review Recorded with Gong · 52 min"),
        ("Tom Becker", "Morning! How was the offsite in Lisbon?"),
        ("Priya Shah", "Good, tiring. Ingrid’s still catching up on sleep."),
        ("Ingrid Ødegård", "Guilty. Okay, headline first."),
        ("Ingrid Ødegård", "Our security team needs SSO before we add the field teams, and "
                           "the security questionnaire came back with two open items."),
        ("Tom Becker", "Understood. 10:30 Thursday works for a review."),
        ("Priya Shah", "We also need 40 more seats by January."),
        (None, "Budget is approved for that, by the way."),
        ("Priya Shah", "Let’s get the quote moving."),
    ]
    assert [t.start_ms for t in turns(call)][1:4] == [4_000, 9_000, 15_000]
    assert [(t.label, t.text) for t in unattributed(call)][1:] == [
        ("Marcus", "Budget is approved for that, by the way.")]
    # Only customer attendees count: Tom's "10:30 Thursday" line and Marcus never do.
    assert {t.speaker.name for t in customer_turns(call)} == {"Priya Shah", "Ingrid Ødegård"}


def test_the_reproduced_failure_now_yields_the_customers_mentions(refs):
    """Issue 13: labels that were not exactly an attendee's name lost every word."""
    mentions = RuleExtractor(refs.taxonomy).extract([make_call(GONG_EXPORT)], [])
    found = {(m.sku, m.speaker, m.quote.split(",")[0]) for m in mentions if m.label == "signal"}
    assert ("enterprise-tier", "Ingrid Ødegård",
            "Our security team needs SSO before we add the field teams") in found
    assert ("additional-team-seats", "Priya Shah",
            "We also need 40 more seats by January.") in found


@pytest.mark.parametrize(("line", "label", "title", "ms", "rest"), [
    ("[00:12:34] Priya Shah (VP Data): We need SSO.", "Priya Shah", "VP Data", 754_000,
     "We need SSO."),
    ("00:12:34 Priya Shah: hi", "Priya Shah", None, 754_000, "hi"),
    ("12:34 Priya: hi", "Priya", None, 754_000, "hi"),
    ("[1:02:03.250]Dr. Priya Shah : hi", "Dr. Priya Shah", None, 3_723_250, "hi"),
    ("Speaker 2: hi", "Speaker 2", None, None, "hi"),
    ("Mary Ann de Vries:", None, None, None, None),  # "de" is not capitalised
    ("One Two Three Four Five Six: too many words", None, None, None, None),
    ("We need: SSO, SCIM and audit logs", None, None, None, None),
    ("Call 2:30 works for us", None, None, None, None),
    ("and then she said: fine", None, None, None, None),
])
def test_the_speaker_line_rule(line, label, title, ms, rest):
    head = speaker_head(line)
    if label is None:
        assert head is None
    else:
        assert (head.label, head.title, head.start_ms, head.text) == (label, title, ms, rest)


def test_a_known_name_opens_a_line_even_when_the_rule_would_not():
    call = make_call("Tom Becker: Welcome.\nmary ann de vries: We need 10 more seats.",
                     attendees=(TOM, {"name": "Mary Ann de Vries", "is_customer": True}))
    assert said(call) == [("Tom Becker", "Welcome."),
                          ("Mary Ann de Vries", "We need 10 more seats.")]


def test_to_ms_reads_minutes_seconds_and_hours():
    assert (to_ms("12:34"), to_ms("00:12:34"), to_ms("1:00:00,5")) == (754_000, 754_000,
                                                                        3_600_500)


@pytest.mark.parametrize(("label", "who"), [
    ("Priya Shah", "Priya Shah"), ("PRIYA SHAH", "Priya Shah"),
    ("  priya   shah ", "Priya Shah"), ("[00:01:02] Priya Shah (VP Data)", "Priya Shah"),
    ("Priya Shah, VP Data", "Priya Shah"), ("Priya Shah - Acme", "Priya Shah"),
    ("Dr. Priya Shah", "Priya Shah"), ("Priya", "Priya Shah"), ("Priya S.", "Priya Shah"),
    ("priya.shah", "Priya Shah"), ("priya.shah@acme.example", "Priya Shah"),
    ("Ingrid Odegard", "Ingrid Ødegård"), ("iodegard", "Ingrid Ødegård"),
    ("Sean O'Brien", "Seán O’Brien"), ("Seán", "Seán O’Brien"),
    ("Pri", None),  # a fragment of a word is no name prefix
    ("Priya Shah-Kumar", None), ("Marcus", None), ("", None), ("(VP Data)", None),
])
def test_speaker_matching(label, who):
    speakers = Speakers([Attendee.model_validate_json(json.dumps(a))
                         for a in (TOM, PRIYA, INGRID, SEAN)])
    found = speakers.match(label)
    assert (found.name if found else None) == who


def test_a_first_name_shared_by_two_attendees_matches_neither():
    two = (TOM, PRIYA, {"name": "Priya Nair", "is_customer": False})
    call = make_call("Priya: We need 20 more seats.\nPriya Nair: Noted.", attendees=two)
    assert said(call) == [(None, "We need 20 more seats."), ("Priya Nair", "Noted.")]
    assert [u.speakers for u in unattributed_speech([call])] == [{"Priya": 1}]


def test_structured_transcripts_match_the_same_way():
    call = make_call(transcript=[
        {"speaker": "Priya Shah (VP Data)", "text": "We need SSO.", "start_ms": 1200},
        {"speaker": "ingrid", "text": "And SCIM."},
        {"speaker": "Unknown speaker", "text": "Hello?"}])
    assert said(call) == [("Priya Shah", "We need SSO."), ("Ingrid Ødegård", "And SCIM."),
                          (None, "Hello?")]
    assert turns(call)[0].start_ms == 1200


ZOOM_VTT = """WEBVTT

1
00:00:01.020 --> 00:00:04.500
Tom Becker: Hi Priya, can you hear me okay?

2
00:00:04.800 --> 00:00:09.100
Priya Shah: Yes. So, the reason I asked for this call: our security

3
00:00:09.100 --> 00:00:12.000
Priya Shah: team needs SAML before the rollout.

4
00:00:12.300 --> 00:00:15.000
iPhone de Marcus: Sorry, joining from my phone.
"""


def test_zoom_webvtt_merges_a_speakers_cues_and_keeps_timing(refs):
    call = make_call(ZOOM_VTT)
    assert said(call) == [
        ("Tom Becker", "Hi Priya, can you hear me okay?"),
        ("Priya Shah", "Yes. So, the reason I asked for this call: our security "
                       "team needs SAML before the rollout."),
        (None, "Sorry, joining from my phone."),
    ]
    assert [t.start_ms for t in turns(call)] == [1_020, 4_800, 12_300]
    # A Zoom display name as typed: any words at a cue's start, never glued to Priya.
    assert [u.speakers for u in unattributed_speech([call])] == [{"iPhone de Marcus": 1}]
    [m] = [m for m in RuleExtractor(refs.taxonomy).extract([call], []) if m.label == "signal"]
    assert m.trigger and "SAML" in m.quote and m.speaker == "Priya Shah"


TEAMS_VTT = """WEBVTT

a1b2c3d4-1
00:00:02.000 --> 00:00:05.000
<v Priya Shah (Acme)>We would like a quote for 60 seats.</v>

a1b2c3d4-2
00:00:05.500 --> 00:00:07.000
<v Unknown Caller>Is this the right meeting?</v>

NOTE the recording was paused here

a1b2c3d4-3
00:10:00.000 --> 00:10:03.000
<v Ingrid Ødegård>We need <i>SCIM</i> too.</v>
"""


def test_teams_webvtt_voice_tags():
    call = make_call(TEAMS_VTT)
    assert said(call) == [("Priya Shah", "We would like a quote for 60 seats."),
                          (None, "Is this the right meeting?"),
                          ("Ingrid Ødegård", "We need SCIM too.")]
    assert [t.start_ms for t in turns(call)] == [2_000, 5_500, 600_000]
    assert [u.speakers for u in unattributed_speech([call])] == [{"Unknown Caller": 1}]


def test_a_malformed_webvtt_is_bad_input_naming_the_call_and_field():
    call = make_call("WEBVTT\n\n00:00:0x.000 --> 00:00:04.000\nPriya: we need SSO\n")
    with pytest.raises(InputError) as caught:
        turns(call)
    assert (caught.value.record, caught.value.field) == ("c1", "transcript_text")
    assert "call c1" in str(caught.value) and "WebVTT" in str(caught.value)


SRT = """\ufeff1
00:00:01,000 --> 00:00:03,200
Ingrid: Before we wrap up, we need

2
00:00:03,200 --> 00:00:05,000
25 more seats for the Oslo office.

3
00:00:06,000 --> 00:00:07,500
Tom Becker: I'll send the quote today.
"""


def test_srt_export_continues_untagged_cues_and_keeps_timing(refs):
    call = make_call(SRT.replace("\n", "\r\n"))
    assert said(call) == [
        ("Ingrid Ødegård", "Before we wrap up, we need 25 more seats for the Oslo office."),
        ("Tom Becker", "I'll send the quote today.")]
    assert [t.start_ms for t in turns(call)] == [1_000, 6_000]
    mentions = RuleExtractor(refs.taxonomy).extract([call], [])
    assert [(m.sku, m.speaker) for m in mentions] == [("additional-team-seats",
                                                       "Ingrid Ødegård")]


def test_a_long_call_with_small_talk_keeps_every_turn():
    lines = []
    for minute in range(90):
        lines.append(f"[{minute // 60:02d}:{minute % 60:02d}:00] Tom Becker (CSM): "
                     "How’s the weather over there?")
        lines.append(f"[{minute // 60:02d}:{minute % 60:02d}:30] Priya: Grey, as usual.")
    lines.append("[01:30:00] Priya: Last thing, we need 15 more seats.")
    call = make_call("\n".join(lines))
    got = turns(call)
    assert len(got) == 181 and not unattributed(call)
    assert (got[-1].speaker.name, got[-1].start_ms) == ("Priya Shah", 5_400_000)


def test_read_segments_plain_text_without_any_speaker():
    assert [(s.label, s.text) for s in read_segments("just words\nmore words\n")] == [
        (None, "just words\nmore words")]


@pytest.mark.parametrize("text", [
    "Ana Ruiz: hi\r\nBo Chen: yo\r\n[00:01:02] more\r\nplain",
    "Ana Ruiz: hi\u2028Bo Chen: yo\u2029and more",
    "Preamble line\n\nAna Ruiz (CSM): one\n  [12:34]  continued\nBo Chen: two\n\n",
    "hello there\nPriya: hi\nCall 2:30 works for me",
    "no speaker at all\nstill none",
])
def test_plain_lines_read_as_line_by_line_reading_would(text):
    """The whole-text scan gives what reading line by line (str.splitlines) gives."""
    from esd.extractors.formats import _LEAD_TS, speaker_head

    expected, lead = [], []
    for line in text.splitlines():
        head = speaker_head(line)
        if head is not None:
            expected.append(list(head))
        elif expected:
            expected[-1][0] += "\n" + _LEAD_TS.sub("", line)
        else:
            lead.append(line)
    expected = [(t.rstrip("\n"), label, ms, title) for t, label, ms, title in expected]
    preamble = "\n".join(lead).strip("\n")
    expected = ([(preamble, None, None, None)] if preamble.strip() else []) + expected
    assert [tuple(s) for s in read_segments(text)] == expected
