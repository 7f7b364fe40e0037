//! Relay connections, one way for every list: `first`/`after` (1-500, 50 by default),
//! `totalCount`, `pageInfo`, and opaque cursors that name the list they came from, so a
//! cursor from another list (or a hand-written number) is refused with a `BAD_USER_INPUT`
//! naming `after` (or `before`), never a panic or a silent restart.
//!
//! Lists computed whole for one request (a BOM, a blast-radius group, an inventory) page by
//! offset ([`Window`]); lists read from the store or the graph by key (events, deployments,
//! components, teams, the inbox) page by the key of the last item seen ([`KeyWindow`]), so
//! a page does not shift when items are added before it. Both cursors are the same [`At`].

use super::page_size;
use crate::errors::ApiError;
use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor};
use async_graphql::{OutputType, SimpleObject};
use serde::{Deserialize, Serialize};

/// What a cursor holds: the list it belongs to and where it stands in it.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
pub struct At {
    #[serde(rename = "l")]
    list: String,
    #[serde(flatten)]
    pos: Pos,
}

/// Where a cursor stands: after so many items, or at the item with this key.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
enum Pos {
    #[serde(rename = "o")]
    Offset(usize),
    #[serde(rename = "k")]
    Key(String),
}

/// The connection-level fields every such connection has.
#[derive(SimpleObject)]
pub struct Counted {
    /// How many items the whole list has (every page together).
    pub total_count: i32,
}

pub type CountedConnection<T> = Connection<OpaqueCursor<At>, T, Counted, EmptyFields>;

fn counted<T: OutputType>(prev: bool, next: bool, total: usize) -> CountedConnection<T> {
    Connection::with_additional_fields(
        prev,
        next,
        Counted {
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
        },
    )
}

/// The position a cursor argument (`after` or `before`) holds, if it is one of `list`'s.
fn decode(list: &str, arg: &str, cursor: Option<String>) -> async_graphql::Result<Option<Pos>> {
    let Some(a) = cursor else {
        return Ok(None);
    };
    match OpaqueCursor::<At>::decode_cursor(&a) {
        Ok(OpaqueCursor(c)) if c.list == list => Ok(Some(c.pos)),
        _ => Err(ApiError::bad(
            arg,
            format!("{a:?} is not a cursor of this connection (use its pageInfo cursors)"),
        )
        .graphql()),
    }
}

fn foreign(arg: &str) -> async_graphql::Error {
    ApiError::bad(
        arg,
        "is not a cursor of this connection (use its pageInfo cursors)",
    )
    .graphql()
}

/// One page of an offset-paged list: how many, from where.
pub struct Window {
    list: String,
    pub first: usize,
    pub offset: usize,
}

impl Window {
    /// Checks `first` (1-500, 50 by default) and `after` (a cursor of `list`).
    pub fn new(
        list: impl Into<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Window> {
        let list = list.into();
        let first = page_size(first)?;
        let offset = match decode(&list, "after", after)? {
            None => 0,
            Some(Pos::Offset(o)) => o,
            Some(Pos::Key(_)) => return Err(foreign("after")),
        };
        Ok(Window {
            list,
            first,
            offset,
        })
    }

    /// The connection of `items` (the page, already cut at `offset`, `first` at most).
    pub fn connection<T: OutputType>(
        self,
        items: Vec<T>,
        has_next: bool,
        total: usize,
    ) -> CountedConnection<T> {
        let mut conn = counted(self.offset > 0, has_next, total);
        conn.edges
            .extend(items.into_iter().enumerate().map(|(i, node)| {
                Edge::new(
                    OpaqueCursor(At {
                        list: self.list.clone(),
                        pos: Pos::Offset(self.offset + i + 1),
                    }),
                    node,
                )
            }));
        conn
    }

    /// The page of a list computed whole.
    pub fn cut<T: OutputType>(self, all: Vec<T>) -> CountedConnection<T> {
        let total = all.len();
        let items: Vec<T> = all.into_iter().skip(self.offset).take(self.first).collect();
        let has_next = total > self.offset + items.len();
        self.connection(items, has_next, total)
    }

    /// The page of a list of keys (names), each looked up as it is shown; a key that finds
    /// nothing (a name gone since the list was made) is left out of its page.
    pub fn cut_by<S, T: OutputType>(
        self,
        all: &[S],
        f: impl FnMut(&S) -> Option<T>,
    ) -> CountedConnection<T> {
        let items = all
            .iter()
            .skip(self.offset)
            .take(self.first)
            .filter_map(f)
            .collect();
        let has_next = all.len() > self.offset + self.first;
        self.connection(items, has_next, all.len())
    }

    /// The page of a list computed whole and kept, turning only the page's items into `T`.
    pub fn cut_with<S: Clone, T: OutputType>(
        self,
        all: &[S],
        f: impl FnMut(S) -> T,
    ) -> CountedConnection<T> {
        let items: Vec<T> = all
            .iter()
            .skip(self.offset)
            .take(self.first)
            .cloned()
            .map(f)
            .collect();
        let has_next = all.len() > self.offset + items.len();
        self.connection(items, has_next, all.len())
    }
}

/// One page of a keyset-paged list: how many, and the key of the item it starts after (or,
/// paging backwards with `last`/`before`, ends before).
pub struct KeyWindow {
    list: String,
    pub size: usize,
    pub key: Option<String>,
    /// Paging backwards: `size` is `last`, `key` is the `before` item's.
    pub backwards: bool,
}

impl KeyWindow {
    /// Checks `first` (1-500, 50 by default) and `after` (a cursor of `list`).
    pub fn new(
        list: impl Into<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<KeyWindow> {
        let list = list.into();
        let size = page_size(first)?;
        let key = Self::key(&list, "after", after)?;
        Ok(KeyWindow {
            list,
            size,
            key,
            backwards: false,
        })
    }

    /// Like [`KeyWindow::new`], also taking `last`/`before` (not together with
    /// `first`/`after`): the page just before `before`, or the end of the list.
    pub fn either_way(
        list: impl Into<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<KeyWindow> {
        if last.is_none() && before.is_none() {
            return Self::new(list, first, after);
        }
        if first.is_some() || after.is_some() {
            let arg = if first.is_some() { "first" } else { "after" };
            return Err(ApiError::bad(
                arg,
                "page forwards (first/after) or backwards (last/before), not both",
            )
            .graphql());
        }
        let list = list.into();
        let size = page_size(last).map_err(|_| {
            ApiError::bad(
                "last",
                format!("must be between 1 and 500, got {}", last.unwrap_or(0)),
            )
            .graphql()
        })?;
        let key = Self::key(&list, "before", before)?;
        Ok(KeyWindow {
            list,
            size,
            key,
            backwards: true,
        })
    }

    fn key(list: &str, arg: &str, cursor: Option<String>) -> async_graphql::Result<Option<String>> {
        match decode(list, arg, cursor)? {
            None => Ok(None),
            Some(Pos::Key(k)) => Ok(Some(k)),
            Some(Pos::Offset(_)) => Err(foreign(arg)),
        }
    }

    /// The connection of a page fetched with one item more than asked (`size + 1`), in
    /// list order, each with its key. The extra item, if there, tells that the list goes on
    /// (past the end paging forwards, before the start paging backwards).
    pub fn connection<T: OutputType>(
        self,
        mut items: Vec<(String, T)>,
        total: usize,
    ) -> CountedConnection<T> {
        let more = items.len() > self.size;
        let (prev, next) = if self.backwards {
            if more {
                items.drain(..items.len() - self.size);
            }
            (more, self.key.is_some())
        } else {
            items.truncate(self.size);
            (self.key.is_some(), more)
        };
        let mut conn = counted(prev, next, total);
        conn.edges.extend(items.into_iter().map(|(k, node)| {
            Edge::new(
                OpaqueCursor(At {
                    list: self.list.clone(),
                    pos: Pos::Key(k),
                }),
                node,
            )
        }));
        conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(list: &str, offset: usize) -> String {
        OpaqueCursor(At {
            list: list.into(),
            pos: Pos::Offset(offset),
        })
        .encode_cursor()
    }

    fn keyed(list: &str, key: &str) -> String {
        OpaqueCursor(At {
            list: list.into(),
            pos: Pos::Key(key.into()),
        })
        .encode_cursor()
    }

    #[test]
    fn a_cursor_resumes_its_own_list_only() {
        let w = Window::new("bom", Some(10), Some(cursor("bom", 30))).unwrap();
        assert_eq!((w.first, w.offset), (10, 30));
        for bad in [
            cursor("blast:images", 30),
            "30".into(),
            "%%%".into(),
            String::new(),
        ] {
            let e = Window::new("bom", None, Some(bad.clone())).err().unwrap();
            assert!(e.message.contains("not a cursor"), "{bad:?}: {}", e.message);
        }
        assert!(Window::new("bom", Some(0), None).is_err());
        assert!(Window::new("bom", Some(501), None).is_err());
        // A keyed cursor of the same name is not an offset.
        assert!(Window::new("bom", None, Some(keyed("bom", "30"))).is_err());
    }

    #[test]
    fn a_keyed_cursor_resumes_its_own_list_only() {
        let w = KeyWindow::new("teams", Some(2), Some(keyed("teams", "b"))).unwrap();
        assert_eq!(
            (w.size, w.key.as_deref(), w.backwards),
            (2, Some("b"), false)
        );
        for bad in [keyed("components", "b"), cursor("teams", 3), "b".into()] {
            let e = KeyWindow::new("teams", None, Some(bad.clone()))
                .err()
                .unwrap();
            assert!(e.message.contains("not a cursor"), "{bad:?}: {}", e.message);
        }
        let e = KeyWindow::either_way("events", None, None, Some(3), Some("7".into()))
            .err()
            .unwrap();
        assert!(e.message.contains("not a cursor"), "{}", e.message);
        assert!(KeyWindow::either_way("events", Some(3), None, Some(3), None).is_err());
        assert!(KeyWindow::either_way("events", None, None, Some(0), None).is_err());
    }

    #[test]
    fn pages_say_which_way_the_list_goes_on() {
        let item = |k: &str| (k.to_string(), k.to_string());
        // Forwards: one more than asked means a next page.
        let w = KeyWindow::new("l", Some(2), None).unwrap();
        let c = w.connection(vec![item("a"), item("b"), item("c")], 5);
        let keys: Vec<&str> = c.edges.iter().map(|e| e.node.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert!(c.has_next_page && !c.has_previous_page);
        // Backwards from the end: the extra item is the oldest, dropped.
        let w = KeyWindow::either_way("l", None, None, Some(2), None).unwrap();
        let c = w.connection(vec![item("c"), item("d"), item("e")], 5);
        let keys: Vec<&str> = c.edges.iter().map(|e| e.node.as_str()).collect();
        assert_eq!(keys, ["d", "e"]);
        assert!(c.has_previous_page && !c.has_next_page);
        assert_eq!(c.additional_fields.total_count, 5);
    }
}
