"""Languages: which codes ``--language`` accepts, and the espeak-ng voice each one speaks with by default.

The codes are ISO 639-1 (two letters). espeak-ng names its voices after these codes (``de``, ``fr``,
``es``, ...), so a language's default voice is its own code, except English, which speaks en-us.
"""

from __future__ import annotations

_ISO_639_1_CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo
es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka
kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng
nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su
sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
UNDETERMINED = "und"  # ISO 639-2 "undetermined": the motion stage's language-agnostic mouth (live mode uses it)
DEFAULT_VOICE = {"en": "en-us"}


def is_language_code(code: object) -> bool:
    """True for an ISO 639-1 code (or ``und``, undetermined), in any case.

    >>> is_language_code("de"), is_language_code("EN"), is_language_code("zz"), is_language_code("deu")
    (True, True, False, False)
    """
    return isinstance(code, str) and (code.strip().lower() in ISO_639_1 or code.strip().lower() == UNDETERMINED)


def default_voice(language: str) -> str:
    """The espeak-ng voice ``--text`` speaks with when no ``--voice`` is given.

    >>> default_voice("en"), default_voice("de")
    ('en-us', 'de')
    """
    code = language.strip().lower()
    return DEFAULT_VOICE.get(code, code)
