//! Draws the server's Markdown tree ([`crate::markdown`]) as ordinary elements. Every string
//! becomes text, never HTML; links open in a new tab without access to this page.

use crate::markdown::{Block, Inline};
use leptos::prelude::*;

/// A Markdown document. Its headings start at `<h3>`: replies sit under the panel's `<h2>`.
pub fn markdown(blocks: Vec<Block>) -> AnyView {
    blocks.into_iter().map(block).collect_view().into_any()
}

fn block(block: Block) -> AnyView {
    match block {
        Block::Paragraph(content) => view! { <p>{inlines(content)}</p> }.into_any(),
        Block::Heading(1, content) => view! { <h3>{inlines(content)}</h3> }.into_any(),
        Block::Heading(2, content) => view! { <h4>{inlines(content)}</h4> }.into_any(),
        Block::Heading(_, content) => view! { <h5>{inlines(content)}</h5> }.into_any(),
        Block::Code { lang, text } => view! {
            <pre class="md-code" data-lang=lang><code>{text}</code></pre>
        }
        .into_any(),
        Block::List {
            start: Some(start),
            items,
        } => view! { <ol start=start>{list_items(items)}</ol> }.into_any(),
        Block::List { start: None, items } => view! { <ul>{list_items(items)}</ul> }.into_any(),
        Block::Quote(blocks) => view! { <blockquote>{markdown(blocks)}</blockquote> }.into_any(),
        Block::Table { head, rows } => view! {
            <div class="table-wrap">
                <table>
                    <thead><tr>{head.into_iter().map(|cell| view! { <th scope="col">{inlines(cell)}</th> }).collect_view()}</tr></thead>
                    <tbody>
                        {rows.into_iter().map(|row| view! {
                            <tr>{row.into_iter().map(|cell| view! { <td>{inlines(cell)}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
        Block::Rule => view! { <hr /> }.into_any(),
    }
}

fn list_items(items: Vec<Vec<Block>>) -> AnyView {
    items
        .into_iter()
        .map(|item| view! { <li>{markdown(item)}</li> })
        .collect_view()
        .into_any()
}

fn inlines(content: Vec<Inline>) -> AnyView {
    content.into_iter().map(inline).collect_view().into_any()
}

fn inline(inline: Inline) -> AnyView {
    match inline {
        Inline::Text(text) => text.into_any(),
        Inline::Code(code) => view! { <code>{code}</code> }.into_any(),
        Inline::Strong(content) => view! { <strong>{inlines(content)}</strong> }.into_any(),
        Inline::Emphasis(content) => view! { <em>{inlines(content)}</em> }.into_any(),
        Inline::Strike(content) => view! { <s>{inlines(content)}</s> }.into_any(),
        // The server only lets web and mail addresses through; checked again here.
        Inline::Link { href, children } if crate::markdown::safe_href(&href) => view! {
            <a href=href target="_blank" rel="noopener noreferrer nofollow">{inlines(children)}</a>
        }
        .into_any(),
        Inline::Link { children, .. } => inlines(children),
        Inline::Break => view! { <br /> }.into_any(),
    }
}
