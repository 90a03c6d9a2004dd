//! Fedora-flavoured Markdown, as Bodhi renders notes and comments: CommonMark, then links for
//! `@user` mentions, bug references (`rhbz#12345`), update aliases and bare URLs and e-mail
//! addresses, sanitised to a small set of tags (no scripts, no event handlers, no
//! `javascript:` URLs) and wrapped in `<div class='markdown'>`.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// Bug trackers a `tracker#number` reference may name, and their URLs.
const TRACKERS: &[(&str, &str)] = &[
    ("fedora", "https://bugzilla.redhat.com/show_bug.cgi?id="),
    ("gcc", "https://gcc.gnu.org/bugzilla/show_bug.cgi?id="),
    ("gnome", "https://bugzilla.gnome.org/show_bug.cgi?id="),
    ("kde", "https://bugs.kde.org/show_bug.cgi?id="),
    ("mozilla", "https://bugzilla.mozilla.org/show_bug.cgi?id="),
    ("pear", "https://pear.php.net/bugs/bug.php?id="),
    ("perl", "https://rt.cpan.org/Public/Bug/Display.html?id="),
    ("php", "https://bugs.php.net/bug.php?id="),
    ("python", "https://bugs.python.org/issue"),
    ("rh", "https://bugzilla.redhat.com/show_bug.cgi?id="),
    ("rhbz", "https://bugzilla.redhat.com/show_bug.cgi?id="),
    (
        "sourceware",
        "https://sourceware.org/bugzilla/show_bug.cgi?id=",
    ),
];

/// Every kind of reference, in one pattern: a URL, an e-mail address, a bug, a mention, an
/// update alias. Which group matched tells the kind.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<url>https?://[^\s<>()]+[^\s<>().,;:!?'\x22])",
        r"|(?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)",
        r"|(?P<tracker>[A-Za-z]+)#(?P<bug>[0-9]{5,})",
        r"|@(?P<user>[\w-]+)",
        r"|(?P<alias>[A-Z-]+-\d{4}-[A-Za-z0-9]{10})",
    ))
    .expect("the reference pattern is valid")
});

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(href), escape(text))
}

/// Turns the references in a run of plain text into links; `base` is the site's address.
fn linkify(text: &str, base: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for m in REFERENCE.captures_iter(text) {
        let whole = m.get(0).map_or(0..0, |g| g.range());
        let before = &text[..whole.start];
        let after = &text[whole.end..];
        let starts_clean = before.chars().last().is_none_or(char::is_whitespace);
        let replacement = if let Some(url) = m.name("url") {
            Some(link(url.as_str(), url.as_str()))
        } else if let Some(email) = m.name("email") {
            Some(link(&format!("mailto:{}", email.as_str()), email.as_str()))
        } else if let (Some(tracker), Some(bug)) = (m.name("tracker"), m.name("bug")) {
            TRACKERS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(tracker.as_str()))
                .map(|(_, url)| {
                    format!(
                        "{}{}",
                        escape(tracker.as_str()),
                        link(
                            &format!("{url}{}", bug.as_str()),
                            &format!("#{}", bug.as_str())
                        )
                    )
                })
        } else if let Some(user) = m.name("user") {
            starts_clean.then(|| {
                link(
                    &format!("{base}users/{}", user.as_str()),
                    &format!("@{}", user.as_str()),
                )
            })
        } else if let Some(alias) = m.name("alias") {
            let ends_clean = after
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || ".,;:".contains(c));
            (starts_clean && ends_clean)
                .then(|| link(&format!("{base}updates/{}", alias.as_str()), alias.as_str()))
        } else {
            None
        };
        if let Some(replacement) = replacement {
            out.push_str(&escape(&text[last..whole.start]));
            out.push_str(&replacement);
            last = whole.end;
        }
    }
    out.push_str(&escape(&text[last..]));
    out
}

/// Renders Markdown to sanitised HTML wrapped in `<div class='markdown'>`.
pub fn render(text: &str, base: &str) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let mut depth_in_code_or_link = 0usize;
    let events = parser.map(|event| match event {
        Event::Start(tag @ (Tag::Link { .. } | Tag::CodeBlock(_) | Tag::Image { .. })) => {
            depth_in_code_or_link += 1;
            Event::Start(tag)
        }
        Event::End(tag @ (TagEnd::Link | TagEnd::CodeBlock | TagEnd::Image)) => {
            depth_in_code_or_link = depth_in_code_or_link.saturating_sub(1);
            Event::End(tag)
        }
        Event::Text(text) if depth_in_code_or_link == 0 => {
            Event::InlineHtml(CowStr::from(linkify(&text, base)))
        }
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    format!("<div class='markdown'>{}</div>", sanitize(&html))
}

fn sanitize(html: &str) -> String {
    let tags: HashSet<&str> = [
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "b",
        "i",
        "strong",
        "em",
        "tt",
        "p",
        "br",
        "span",
        "div",
        "blockquote",
        "code",
        "hr",
        "pre",
        "ul",
        "ol",
        "li",
        "dd",
        "dt",
        "img",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "del",
    ]
    .into_iter()
    .collect();
    ammonia::Builder::default()
        .tags(tags)
        .tag_attributes(
            [
                ("img", ["src", "alt", "title"].into_iter().collect()),
                ("a", ["href", "alt", "title"].into_iter().collect()),
                ("div", ["class"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        .generic_attributes(HashSet::new())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(None)
        .clean(html)
        .to_string()
}

/// The plain text of Markdown (for mails and RSS): the rendered HTML without its tags.
pub fn to_text(text: &str) -> String {
    let parser = Parser::new(text);
    let mut out = String::new();
    for event in parser {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock,
            ) => out.push('\n'),
            _ => {}
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://pipal.example.org/";

    #[test]
    fn references_become_links() {
        let html = render(
            "Thanks @alice! Fixes rhbz#2400001, see FEDORA-2026-0123456789. More at https://example.org/x.",
            BASE,
        );
        assert!(html.starts_with("<div class='markdown'><p>"), "{html}");
        assert!(
            html.contains("<a href=\"https://pipal.example.org/users/alice\">@alice</a>"),
            "{html}"
        );
        assert!(
            html.contains(
                "rhbz<a href=\"https://bugzilla.redhat.com/show_bug.cgi?id=2400001\">#2400001</a>"
            ),
            "{html}"
        );
        assert!(html.contains("<a href=\"https://pipal.example.org/updates/FEDORA-2026-0123456789\">FEDORA-2026-0123456789</a>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.org/x\">https://example.org/x</a>."),
            "{html}"
        );
        assert!(render("mail bob@example.org", BASE).contains("mailto:bob@example.org"));
        assert!(!render("unknowntracker#12345", BASE).contains("<a"));
        assert!(!render("user@alice is not a mention", BASE).contains("users/alice"));
    }

    #[test]
    fn code_is_left_alone_and_markdown_works() {
        let html = render(
            "# Title\n\n`@alice` and\n\n```\nrhbz#123456\n```\n\n**bold**",
            BASE,
        );
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<code>@alice</code>"), "{html}");
        assert!(html.contains("rhbz#123456"), "{html}");
        assert!(!html.contains("show_bug"), "{html}");
        assert!(html.contains("<strong>bold</strong>"));
    }

    #[test]
    fn dangerous_html_is_removed() {
        let html = render(
            "<script>alert(1)</script><img src=x onerror=alert(1)> <a href=\"https://ok.example.org\" onclick=\"x()\">ok</a>\n\n[click](javascript:alert(1))",
            BASE,
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains(">click</a>"), "the link text stays: {html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(html.contains("href=\"https://ok.example.org\""), "{html}");
    }

    #[test]
    fn plain_text_drops_the_markup() {
        assert_eq!(
            to_text("Update to **1.4.1**.\n\n- fixes `frob`"),
            "Update to 1.4.1.\nfixes frob"
        );
    }
}
