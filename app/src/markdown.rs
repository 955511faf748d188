//! Safe Markdown for the assistant's replies: the server parses the text (CommonMark with tables
//! and strikethrough) into this small tree, and the browser draws the tree as ordinary elements.
//! There is no way to express raw HTML, scripts, styles, images or non-web links in it, so
//! nothing a model writes can run or load in the candidate's page; HTML in a reply is shown as
//! the text it is. Parsing on the server keeps the Markdown parser out of the browser bundle.

use serde::{Deserialize, Serialize};

/// A block of a Markdown document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
pub enum Block {
    Paragraph(Vec<Inline>),
    /// Level 1–6 and its text.
    Heading(u8, Vec<Inline>),
    Code {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lang: Option<String>,
        text: String,
    },
    /// `start` is the first number of an ordered list; `None` for bullets.
    List {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Quote(Vec<Block>),
    Table {
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    Rule,
}

/// Text-level content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
pub enum Inline {
    Text(String),
    Code(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Strike(Vec<Inline>),
    /// Only `http:`, `https:` and `mailto:` targets become links.
    Link {
        href: String,
        children: Vec<Inline>,
    },
    Break,
}

/// Whether `href` may become a link: web and mail addresses only (no `javascript:`, `data:`,
/// relative paths into the app, …).
pub fn safe_href(href: &str) -> bool {
    let lower = href.trim_start().to_ascii_lowercase();
    ["https://", "http://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

#[cfg(feature = "ssr")]
pub use parse::parse;

#[cfg(feature = "ssr")]
mod parse {
    use super::{Block, Inline, safe_href};
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

    /// Containers nested deeper than this are flattened to their text, so that no reply can
    /// make the parser or the page recurse without bound.
    const MAX_DEPTH: usize = 16;

    /// The tree of `text`.
    pub fn parse(text: &str) -> Vec<Block> {
        let mut events =
            Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
        blocks(&mut events, 0)
    }

    type Events<'a> = Parser<'a>;

    /// Blocks up to the end of the enclosing container (or of the document).
    fn blocks(events: &mut Events, depth: usize) -> Vec<Block> {
        let mut out = Vec::new();
        // Inline content straight inside a container (a tight list item) forms a paragraph.
        let mut loose: Vec<Inline> = Vec::new();
        let flush = |loose: &mut Vec<Inline>, out: &mut Vec<Block>| {
            if !loose.is_empty() {
                out.push(Block::Paragraph(std::mem::take(loose)));
            }
        };
        while let Some(event) = events.next() {
            let block = match event {
                Event::End(_) => break,
                Event::Rule => Block::Rule,
                Event::Start(_) if depth >= MAX_DEPTH => {
                    push_text(&mut loose, &text_until_end(events));
                    continue;
                }
                Event::Start(Tag::Paragraph) => Block::Paragraph(inlines(events, depth + 1)),
                Event::Start(Tag::Heading { level, .. }) => {
                    Block::Heading(level as u8, inlines(events, depth + 1))
                }
                Event::Start(Tag::BlockQuote(_)) => Block::Quote(blocks(events, depth + 1)),
                Event::Start(Tag::CodeBlock(kind)) => Block::Code {
                    lang: match kind {
                        CodeBlockKind::Fenced(info) => info
                            .split_whitespace()
                            .next()
                            .map(|lang| lang.chars().take(20).collect()),
                        CodeBlockKind::Indented => None,
                    },
                    text: text_until_end(events),
                },
                // HTML is shown as the text it is.
                Event::Start(Tag::HtmlBlock) => {
                    Block::Paragraph(vec![Inline::Text(text_until_end(events))])
                }
                Event::Start(Tag::List(start)) => {
                    let mut items = Vec::new();
                    while let Some(event) = events.next() {
                        match event {
                            Event::Start(Tag::Item) => items.push(blocks(events, depth + 1)),
                            Event::End(_) => break,
                            _ => {}
                        }
                    }
                    Block::List { start, items }
                }
                Event::Start(Tag::Table(_)) => table(events, depth + 1),
                Event::Start(tag) if is_inline(&tag) => {
                    if let Some(inline) = inline_container(events, tag, depth + 1) {
                        loose.push(inline);
                    }
                    continue;
                }
                // Anything else (footnotes, definition lists: not enabled) keeps its text.
                Event::Start(_) => {
                    push_text(&mut loose, &text_until_end(events));
                    continue;
                }
                other => {
                    if let Some(inline) = leaf(other) {
                        push_inline(&mut loose, inline);
                    }
                    continue;
                }
            };
            flush(&mut loose, &mut out);
            out.push(block);
        }
        flush(&mut loose, &mut out);
        out
    }

    fn is_inline(tag: &Tag) -> bool {
        matches!(
            tag,
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. }
                | Tag::Image { .. }
        )
    }

    /// Inline content up to the end of the enclosing container.
    fn inlines(events: &mut Events, depth: usize) -> Vec<Inline> {
        let mut out = Vec::new();
        while let Some(event) = events.next() {
            match event {
                Event::End(_) => break,
                Event::Start(_) if depth >= MAX_DEPTH => {
                    push_text(&mut out, &text_until_end(events))
                }
                Event::Start(tag) => {
                    if let Some(inline) = inline_container(events, tag, depth + 1) {
                        push_inline(&mut out, inline);
                    }
                }
                other => {
                    if let Some(inline) = leaf(other) {
                        push_inline(&mut out, inline);
                    }
                }
            }
        }
        out
    }

    fn inline_container(events: &mut Events, tag: Tag, depth: usize) -> Option<Inline> {
        Some(match tag {
            Tag::Emphasis => Inline::Emphasis(inlines(events, depth)),
            Tag::Strong => Inline::Strong(inlines(events, depth)),
            Tag::Strikethrough => Inline::Strike(inlines(events, depth)),
            Tag::Link { dest_url, .. } => {
                let children = inlines(events, depth);
                if safe_href(&dest_url) {
                    Inline::Link {
                        href: dest_url.trim().to_owned(),
                        children,
                    }
                } else {
                    Inline::Emphasis(children)
                }
            }
            // Images are never loaded: their description stands in for them.
            Tag::Image { .. } => Inline::Text(text_until_end(events)),
            _ => {
                let text = text_until_end(events);
                return (!text.is_empty()).then_some(Inline::Text(text));
            }
        })
    }

    fn leaf(event: Event) -> Option<Inline> {
        Some(match event {
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                Inline::Text(text.into_string())
            }
            Event::InlineMath(text) | Event::DisplayMath(text) => Inline::Code(text.into_string()),
            Event::Code(code) => Inline::Code(code.into_string()),
            Event::SoftBreak => Inline::Text(" ".into()),
            Event::HardBreak => Inline::Break,
            Event::FootnoteReference(name) => Inline::Text(format!("[{name}]")),
            Event::TaskListMarker(done) => Inline::Text(if done { "[x] " } else { "[ ] " }.into()),
            _ => return None,
        })
    }

    /// Adjacent text runs become one.
    fn push_inline(out: &mut Vec<Inline>, inline: Inline) {
        match (out.last_mut(), inline) {
            (Some(Inline::Text(last)), Inline::Text(more)) => last.push_str(&more),
            (_, inline) => out.push(inline),
        }
    }

    fn push_text(out: &mut Vec<Inline>, text: &str) {
        if !text.is_empty() {
            push_inline(out, Inline::Text(text.to_owned()));
        }
    }

    /// The text of a code block, an HTML block or an image description.
    fn text_until_end(events: &mut Events) -> String {
        let mut text = String::new();
        let mut open = 1usize;
        for event in events.by_ref() {
            match event {
                Event::Start(_) => open += 1,
                Event::End(_) => {
                    open -= 1;
                    if open == 0 {
                        break;
                    }
                }
                Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                    text.push_str(&t)
                }
                Event::SoftBreak | Event::HardBreak => text.push(' '),
                _ => {}
            }
        }
        text
    }

    fn table(events: &mut Events, depth: usize) -> Block {
        let mut head = Vec::new();
        let mut rows: Vec<Vec<Vec<Inline>>> = Vec::new();
        let mut in_head = false;
        while let Some(event) = events.next() {
            match event {
                Event::Start(Tag::TableHead) => in_head = true,
                Event::End(TagEnd::TableHead) => in_head = false,
                Event::Start(Tag::TableRow) => rows.push(Vec::new()),
                Event::Start(Tag::TableCell) => {
                    let cell = inlines(events, depth + 1);
                    if in_head {
                        head.push(cell);
                    } else if let Some(row) = rows.last_mut() {
                        row.push(cell);
                    }
                }
                Event::End(TagEnd::Table) => break,
                _ => {}
            }
        }
        Block::Table { head, rows }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn text(s: &str) -> Inline {
            Inline::Text(s.into())
        }

        #[test]
        fn paragraphs_emphasis_code_and_lists() {
            let doc = parse(
                "Use a **Map** and *check* `map.has(k)`.\n\n- one\n- two `x`\n\n3. three\n\n```js\nconst a = 1;\n```\n",
            );
            assert_eq!(
                doc,
                vec![
                    Block::Paragraph(vec![
                        text("Use a "),
                        Inline::Strong(vec![text("Map")]),
                        text(" and "),
                        Inline::Emphasis(vec![text("check")]),
                        text(" "),
                        Inline::Code("map.has(k)".into()),
                        text("."),
                    ]),
                    Block::List {
                        start: None,
                        items: vec![
                            vec![Block::Paragraph(vec![text("one")])],
                            vec![Block::Paragraph(vec![
                                text("two "),
                                Inline::Code("x".into())
                            ])],
                        ],
                    },
                    Block::List {
                        start: Some(3),
                        items: vec![vec![Block::Paragraph(vec![text("three")])]],
                    },
                    Block::Code {
                        lang: Some("js".into()),
                        text: "const a = 1;\n".into()
                    },
                ]
            );
        }

        #[test]
        fn html_stays_text_and_only_web_links_are_links() {
            let doc = parse(
                "<script>alert(1)</script>\n\nSee <b>this</b> [docs](https://developer.mozilla.org) and [bad](javascript:alert(1)) ![x](https://evil.example/t.png)",
            );
            assert_eq!(
                doc[0],
                Block::Paragraph(vec![text("<script>alert(1)</script>\n")])
            );
            let Block::Paragraph(inlines) = &doc[1] else {
                panic!("a paragraph: {doc:?}")
            };
            assert!(inlines.contains(&text("See <b>this</b> ")), "{inlines:?}");
            assert!(inlines.contains(&Inline::Link {
                href: "https://developer.mozilla.org".into(),
                children: vec![text("docs")],
            }));
            assert!(inlines.contains(&Inline::Emphasis(vec![text("bad")])));
            assert!(!format!("{inlines:?}").contains("evil.example"));
        }

        #[test]
        fn headings_quotes_tables_and_rules() {
            let doc = parse("## Idea\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n");
            assert_eq!(doc[0], Block::Heading(2, vec![text("Idea")]));
            assert_eq!(
                doc[1],
                Block::Quote(vec![Block::Paragraph(vec![text("quoted")])])
            );
            assert_eq!(
                doc[2],
                Block::Table {
                    head: vec![vec![text("a")], vec![text("b")]],
                    rows: vec![vec![vec![text("1")], vec![text("2")]]],
                }
            );
            assert_eq!(doc[3], Block::Rule);
        }

        #[test]
        fn deep_nesting_is_flattened_not_followed() {
            let deep = format!("{}deep", "> ".repeat(500));
            let doc = parse(&deep);
            let mut depth = 0;
            let mut block = &doc[0];
            while let Block::Quote(inner) = block {
                depth += 1;
                block = &inner[0];
            }
            assert!(depth <= MAX_DEPTH, "{depth}");
            assert!(format!("{doc:?}").contains("deep"));
        }

        #[test]
        fn unfinished_markdown_of_a_reply_still_arriving_parses() {
            let doc = parse("Try **this and `co");
            assert_eq!(doc.len(), 1);
            assert!(format!("{doc:?}").contains("this and"));
        }
    }
}
