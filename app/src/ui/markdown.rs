//! Writes the server's Markdown tree ([`crate::markdown`]) as HTML, for an element's
//! `inner_html`. Every string of the tree is escaped, so it is text, never markup; only the
//! elements below can come out, and links open in a new tab without access to this page.
//!
//! A string rather than a view: the tree is recursive, and a recursive view needs a type-erased
//! view per node, whose code for every way of hydrating would ship in the test page's bundle.

// Only the assistant's panel, built in the browser, writes replies: the server build uses it in tests.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use crate::markdown::{Block, Inline};

/// A Markdown document. Its headings start at `<h3>`: replies sit under the panel's `<h2>`.
pub fn to_html(blocks: &[Block]) -> String {
    let mut out = String::new();
    write_blocks(&mut out, blocks);
    out
}

fn write_blocks(out: &mut String, blocks: &[Block]) {
    for block in blocks {
        write_block(out, block);
    }
}

fn write_block(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(content) => wrap(out, "p", content),
        Block::Heading(1, content) => wrap(out, "h3", content),
        Block::Heading(2, content) => wrap(out, "h4", content),
        Block::Heading(_, content) => wrap(out, "h5", content),
        Block::Code { lang, text } => {
            out.push_str("<pre class=\"md-code\"");
            if let Some(lang) = lang {
                out.push_str(" data-lang=\"");
                escape(out, lang);
                out.push('"');
            }
            out.push_str("><code>");
            escape(out, text);
            out.push_str("</code></pre>");
        }
        Block::List { start, items } => {
            match start {
                Some(start) => out.push_str(&format!("<ol start=\"{start}\">")),
                None => out.push_str("<ul>"),
            }
            for item in items {
                out.push_str("<li>");
                write_blocks(out, item);
                out.push_str("</li>");
            }
            out.push_str(if start.is_some() { "</ol>" } else { "</ul>" });
        }
        Block::Quote(blocks) => {
            out.push_str("<blockquote>");
            write_blocks(out, blocks);
            out.push_str("</blockquote>");
        }
        Block::Table { head, rows } => {
            out.push_str("<div class=\"table-wrap\"><table><thead><tr>");
            for cell in head {
                out.push_str("<th scope=\"col\">");
                write_inlines(out, cell);
                out.push_str("</th>");
            }
            out.push_str("</tr></thead><tbody>");
            for row in rows {
                out.push_str("<tr>");
                for cell in row {
                    wrap(out, "td", cell);
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table></div>");
        }
        Block::Rule => out.push_str("<hr>"),
    }
}

/// `<tag>content</tag>`.
fn wrap(out: &mut String, tag: &str, content: &[Inline]) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
    write_inlines(out, content);
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn write_inlines(out: &mut String, content: &[Inline]) {
    for inline in content {
        write_inline(out, inline);
    }
}

fn write_inline(out: &mut String, inline: &Inline) {
    match inline {
        Inline::Text(text) => escape(out, text),
        Inline::Code(code) => {
            out.push_str("<code>");
            escape(out, code);
            out.push_str("</code>");
        }
        Inline::Strong(content) => wrap(out, "strong", content),
        Inline::Emphasis(content) => wrap(out, "em", content),
        Inline::Strike(content) => wrap(out, "s", content),
        // The server only lets web and mail addresses through; checked again here.
        Inline::Link { href, children } if crate::markdown::safe_href(href) => {
            out.push_str("<a href=\"");
            escape(out, href);
            out.push_str("\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">");
            write_inlines(out, children);
            out.push_str("</a>");
        }
        Inline::Link { children, .. } => write_inlines(out, children),
        Inline::Break => out.push_str("<br>"),
    }
}

/// Text or a quoted attribute value, with every character that could end either escaped.
pub(super) fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn markup_in_any_string_comes_out_as_text() {
        let html = to_html(&[
            Block::Paragraph(vec![
                text("<script>alert(1)</script> & "),
                Inline::Code("a < b".into()),
            ]),
            Block::Code {
                lang: Some("js\"><img src=x onerror=alert(1)>".into()),
                text: "</code></pre><b>".into(),
            },
        ]);
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>a &lt; b</code></p>\
             <pre class=\"md-code\" data-lang=\"js&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">\
             <code>&lt;/code&gt;&lt;/pre&gt;&lt;b&gt;</code></pre>"
        );
    }

    #[test]
    fn only_web_and_mail_links_become_links() {
        let html = to_html(&[Block::Paragraph(vec![
            Inline::Link {
                href: "https://example.com/?a=1&b=\"2\"".into(),
                children: vec![text("docs")],
            },
            text(" "),
            Inline::Link {
                href: "javascript:alert(1)".into(),
                children: vec![Inline::Strong(vec![text("click")])],
            },
        ])]);
        assert_eq!(
            html,
            "<p><a href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\" target=\"_blank\" \
             rel=\"noopener noreferrer nofollow\">docs</a> <strong>click</strong></p>"
        );
    }

    #[test]
    fn nested_lists_quotes_tables_and_headings() {
        let html = to_html(&[
            Block::Heading(1, vec![text("Title")]),
            Block::Heading(4, vec![text("Small")]),
            Block::List {
                start: Some(3),
                items: vec![vec![
                    Block::Paragraph(vec![text("three")]),
                    Block::List {
                        start: None,
                        items: vec![vec![Block::Quote(vec![Block::Paragraph(vec![
                            Inline::Emphasis(vec![text("deep")]),
                            Inline::Break,
                            Inline::Strike(vec![text("gone")]),
                        ])])]],
                    },
                ]],
            },
            Block::Table {
                head: vec![vec![text("k")], vec![text("v")]],
                rows: vec![vec![vec![text("a")], vec![Inline::Code("1".into())]]],
            },
            Block::Rule,
        ]);
        assert_eq!(
            html,
            "<h3>Title</h3><h5>Small</h5>\
             <ol start=\"3\"><li><p>three</p><ul><li><blockquote><p><em>deep</em><br><s>gone</s></p>\
             </blockquote></li></ul></li></ol>\
             <div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">k</th><th scope=\"col\">v</th>\
             </tr></thead><tbody><tr><td>a</td><td><code>1</code></td></tr></tbody></table></div><hr>"
        );
    }
}
