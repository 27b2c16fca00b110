"""Feed HTML becomes clean plain text."""

from bot.core.plaintext import normalise_space, plain_text


def test_tags_are_dropped_and_entities_decoded() -> None:
    assert plain_text("<p>Tom &amp; Jerry&#8217;s <b>big</b> day</p>") == "Tom & Jerry’s big day"


def test_block_elements_separate_words() -> None:
    assert plain_text("<p>One</p><p>Two</p><br/>Three<li>Four</li>") == "One Two Three Four"


def test_inline_elements_do_not_split_words() -> None:
    assert plain_text("un<em>believ</em>able") == "unbelievable"


def test_script_and_style_content_is_not_text() -> None:
    markup = "<style>p{color:red}</style><p>Hi</p><script>alert('x')</script>"
    assert plain_text(markup) == "Hi"


def test_whitespace_and_nbsp_are_normalised() -> None:
    assert plain_text("  a\n\t b&nbsp;&nbsp;c  ") == "a b c"
    assert normalise_space("x\u00a0\u00a0y\n") == "x y"


def test_plain_text_with_a_lone_angle_bracket_survives() -> None:
    assert plain_text("if a < b then") == "if a < b then"


def test_unclosed_markup_does_not_raise() -> None:
    assert plain_text("<p>cut off <a href='x") == "cut off"


def test_empty() -> None:
    assert plain_text("") == ""


def test_paragraphs_stay_apart_so_boilerplate_can_be_cut_out() -> None:
    html = "<p>Blinken met  Cavusoglu.</p><p>Subscribe to our newsletter.</p>Line<br>break"
    assert plain_text(html, paragraphs=True).splitlines() == [
        "Blinken met Cavusoglu.",
        "Subscribe to our newsletter.",
        "Line",
        "break",
    ]
    assert plain_text(html) == "Blinken met Cavusoglu. Subscribe to our newsletter. Line break"
