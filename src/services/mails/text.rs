//! Plain text as Bodhi writes it in mails (docs/notes/bodhi-comment-mail.md): Python's
//! `str(datetime)` of an aware UTC time, `wrap_text` (each input line wrapped on its own at 79
//! columns, blank lines dropped), `markdown_to_text`, and the 80-column block `str(update)`.

use chrono::{NaiveDateTime, Timelike};
use pulldown_cmark::{Event, Parser, TagEnd};

/// `str()` of an aware UTC datetime: `2026-03-02 08:30:05.123456+00:00`, without the
/// fraction when it is zero.
pub fn python_datetime(t: &NaiveDateTime) -> String {
    if t.nanosecond() / 1000 == 0 {
        t.format("%Y-%m-%d %H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
    }
}

/// Bodhi's `wrap_text`: every line of `text` is wrapped on its own (Python's `TextWrapper`
/// at `width`, greedy on whitespace, words longer than a line cut), the first prefixed with
/// `initial_indent`, the others and every continuation with `subsequent_indent`; blank lines
/// disappear. (TextWrapper also breaks after hyphens; this does not, so a hyphenated word at
/// the margin may wrap one word earlier or later than in Bodhi.)
pub fn wrap_text(
    text: &str,
    width: usize,
    initial_indent: &str,
    subsequent_indent: &str,
) -> String {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let prefix = if i == 0 {
            initial_indent
        } else {
            subsequent_indent
        };
        out.extend(wrap_line(
            &format!("{prefix}{line}"),
            width,
            subsequent_indent,
        ));
    }
    out.join("\n")
}

/// Alternating runs of non-space and of space characters, whitespace made spaces.
fn chunks(text: &str) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    let mut last_space = None;
    for c in text.chars() {
        let space = c.is_whitespace();
        let c = if space { ' ' } else { c };
        match chunks.last_mut() {
            Some(chunk) if last_space == Some(space) => chunk.push(c),
            _ => chunks.push(c.to_string()),
        }
        last_space = Some(space);
    }
    chunks
}

fn is_space(chunk: &str) -> bool {
    chunk.starts_with(' ')
}

fn wrap_line(text: &str, width: usize, subsequent_indent: &str) -> Vec<String> {
    let mut pending: Vec<String> = chunks(text);
    pending.reverse();
    let mut lines: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let indent = if lines.is_empty() {
            ""
        } else {
            subsequent_indent
        };
        let room = width.saturating_sub(indent.chars().count()).max(1);
        if !lines.is_empty() && pending.last().is_some_and(|c| is_space(c)) {
            pending.pop();
        }
        let mut line: Vec<String> = Vec::new();
        let mut used = 0;
        while let Some(chunk) = pending.last() {
            let len = chunk.chars().count();
            if used + len > room {
                break;
            }
            used += len;
            line.extend(pending.pop());
        }
        if let Some(chunk) = pending.last_mut()
            && chunk.chars().count() > room
        {
            let take = room.saturating_sub(used).max(1);
            let head: String = chunk.chars().take(take).collect();
            let tail: String = chunk.chars().skip(take).collect();
            *chunk = tail;
            line.push(head);
        }
        if line.last().is_some_and(|c| is_space(c)) {
            line.pop();
        }
        if !line.is_empty() {
            lines.push(format!("{indent}{}", line.concat()));
        }
    }
    lines
}

/// Bodhi's `markdown_to_text`: the markdown rendered, its markup and links' targets dropped,
/// the text of every block kept with the line breaks between blocks.
pub fn markdown_to_text(markdown: &str) -> String {
    let mut text = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                if matches!(event_kind(&t), HtmlKind::Tag) {
                    continue;
                }
                text.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => text.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::HtmlBlock,
            ) => text.push('\n'),
            _ => {}
        }
    }
    text
}

enum HtmlKind {
    Tag,
    Text,
}

/// Raw HTML tags are dropped (their text is kept by the events around them).
fn event_kind(text: &str) -> HtmlKind {
    let trimmed = text.trim();
    if trimmed.starts_with('<') && trimmed.ends_with('>') {
        HtmlKind::Tag
    } else {
        HtmlKind::Text
    }
}

/// One comment in the update block.
pub struct CommentLine<'a> {
    pub user: &'a str,
    pub timestamp: NaiveDateTime,
    pub karma: i32,
    pub text: &'a str,
}

/// What `str(update)` shows.
pub struct UpdateBlock<'a> {
    pub alias: &'a str,
    pub release: &'a str,
    pub status: &'a str,
    pub update_type: &'a str,
    pub severity: &'a str,
    pub karma: i32,
    pub critpath: bool,
    pub request: Option<&'a str>,
    /// (number, title) in bug number order.
    pub bugs: Vec<(i32, Option<&'a str>)>,
    pub notes: &'a str,
    pub submitter: Option<&'a str>,
    pub submitted: NaiveDateTime,
    /// Since the last karma reset, oldest first.
    pub comments: Vec<CommentLine<'a>>,
    pub url: String,
}

/// Bodhi's `Update.__str__`: labels right-aligned in 12 columns, values wrapped at 79 with
/// 13 spaces before continuations, one blank line, then the URL indented by two spaces.
pub fn update_block(u: &UpdateBlock<'_>) -> String {
    let label = |name: &str| format!("{name:>12} ");
    let continuation = " ".repeat(13);
    let rule = "=".repeat(80);
    let mut out = format!(
        "{rule}\n     {}\n{rule}\n{}{}\n{}{}\n{}{}\n{}{}\n{}{}",
        u.alias,
        label("Release:"),
        u.release,
        label("Status:"),
        u.status,
        label("Type:"),
        u.update_type,
        label("Severity:"),
        u.severity,
        label("Karma:"),
        u.karma
    );
    if u.critpath {
        out.push_str(&format!("\n{}True", label("Critpath:")));
    }
    if let Some(request) = u.request {
        out.push_str(&format!("\n{}{request}", label("Request:")));
    }
    if !u.bugs.is_empty() {
        let bugs: Vec<String> = u
            .bugs
            .iter()
            .map(|(number, title)| format!("{number} - {}", title.unwrap_or("None")))
            .collect();
        out.push('\n');
        out.push_str(&wrap_text(
            &bugs.join("\n"),
            79,
            &label("Bugs:"),
            &continuation,
        ));
    }
    if !u.notes.is_empty() {
        out.push('\n');
        out.push_str(&wrap_text(
            markdown_to_text(u.notes).trim(),
            79,
            &label("Notes:"),
            &continuation,
        ));
    }
    out.push_str(&format!(
        "\n{}{}\n{}{}\n",
        label("Submitter:"),
        u.submitter.unwrap_or("None"),
        label("Submitted:"),
        python_datetime(&u.submitted)
    ));
    if !u.comments.is_empty() {
        let mut lines = Vec::new();
        for c in &u.comments {
            lines.push(format!(
                "{} - {} (karma {})",
                c.user,
                python_datetime(&c.timestamp),
                c.karma
            ));
            if !c.text.is_empty() {
                lines.push(c.text.to_owned());
            }
        }
        out.push_str(&wrap_text(
            &lines.join("\n"),
            79,
            &label("Comments:"),
            &continuation,
        ));
        out.push('\n');
    }
    out.push_str(&format!("\n  {}", u.url));
    out
}

/// Bodhi's `Comment.__str__`: `user - timestamp (karma: +1)` then the raw text.
pub fn comment_text(user: &str, timestamp: &NaiveDateTime, karma: i32, text: &str) -> String {
    let karma = if karma == 0 {
        "0".to_owned()
    } else {
        format!("{karma:+}")
    };
    format!(
        "{user} - {} (karma: {karma})\n{text}",
        python_datetime(timestamp)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn datetimes_print_as_python_prints_aware_utc() {
        assert_eq!(
            python_datetime(&at("2026-03-02 08:30:05")),
            "2026-03-02 08:30:05+00:00"
        );
        assert_eq!(
            python_datetime(&at("2026-02-28 10:11:12.654321")),
            "2026-02-28 10:11:12.654321+00:00"
        );
    }

    #[test]
    fn wrapping_keeps_lines_drops_blank_ones_and_indents_continuations() {
        let text = "Works for me.\n\nTested on **x86_64** with a very long line that goes past the seventy-nine column limit for sure.";
        let wrapped = wrap_text(text, 79, "   Comments: ", &" ".repeat(13));
        assert_eq!(
            wrapped,
            "   Comments: Works for me.\n\
             \x20            Tested on **x86_64** with a very long line that goes past the\n\
             \x20            seventy-nine column limit for sure."
        );
        let long = wrap_text(&"x".repeat(100), 79, "", "");
        assert_eq!(long.lines().map(str::len).collect::<Vec<_>>(), [79, 21]);
    }

    #[test]
    fn markdown_loses_its_markup() {
        let text = markdown_to_text(
            "Fix the **crash**.\n\n- item one\n- item two\n\n```\ncode  block\n```\n\nSee [bug](https://x).",
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines,
            [
                "Fix the crash.",
                "item one",
                "item two",
                "code  block",
                "See bug."
            ]
        );
    }

    #[test]
    fn the_update_block_is_bodhis() {
        let block = update_block(&UpdateBlock {
            alias: "FEDORA-2026-0123456789",
            release: "Fedora 44",
            status: "testing",
            update_type: "bugfix",
            severity: "unspecified",
            karma: 1,
            critpath: true,
            request: Some("stable"),
            bugs: vec![(123456, Some("foo crashes on start")), (234567, None)],
            notes: "Fix the **crash**.\n\n- item one\n- item two\n\n```\ncode  block\n```\n",
            submitter: Some("alice"),
            submitted: at("2026-02-28 10:11:12.654321"),
            comments: vec![
                CommentLine {
                    user: "bodhi",
                    timestamp: at("2026-03-01 12:00:00.123456"),
                    karma: 0,
                    text: "This update has been submitted for testing by alice.",
                },
                CommentLine {
                    user: "bob",
                    timestamp: at("2026-03-02 08:30:05"),
                    karma: 1,
                    text: "Works for me.\n\nTested on **x86_64** with a very long line that goes past the seventy-nine column limit for sure.",
                },
            ],
            url: "https://bodhi.fedoraproject.org/updates/FEDORA-2026-0123456789".into(),
        });
        let expected = "\
================================================================================
     FEDORA-2026-0123456789
================================================================================
    Release: Fedora 44
     Status: testing
       Type: bugfix
   Severity: unspecified
      Karma: 1
   Critpath: True
    Request: stable
       Bugs: 123456 - foo crashes on start
             234567 - None
      Notes: Fix the crash.
             item one
             item two
             code  block
  Submitter: alice
  Submitted: 2026-02-28 10:11:12.654321+00:00
   Comments: bodhi - 2026-03-01 12:00:00.123456+00:00 (karma 0)
             This update has been submitted for testing by alice.
             bob - 2026-03-02 08:30:05+00:00 (karma 1)
             Works for me.
             Tested on **x86_64** with a very long line that goes past the
             seventy-nine column limit for sure.

  https://bodhi.fedoraproject.org/updates/FEDORA-2026-0123456789";
        assert_eq!(block, expected);
    }

    #[test]
    fn comments_show_signed_karma() {
        assert_eq!(
            comment_text("bob", &at("2026-03-02 08:30:05"), 1, "Works."),
            "bob - 2026-03-02 08:30:05+00:00 (karma: +1)\nWorks."
        );
        assert_eq!(
            comment_text("bob", &at("2026-03-02 08:30:05"), 0, ""),
            "bob - 2026-03-02 08:30:05+00:00 (karma: 0)\n"
        );
    }
}
