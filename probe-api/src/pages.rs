//! Lists that page themselves.
//!
//! An operation whose query takes `pagination[page]` and
//! `pagination[limit]` and whose answer holds `pagination` and one list
//! (today [`Client::get_log`](crate::Client::get_log) and
//! [`Client::get_users`](crate::Client::get_users); the operations table
//! marks them in [`OperationSpec::pages`](crate::spec::OperationSpec::pages))
//! has two more methods on its builder:
//!
//! - `pages()`: a [`Pages`] stream of the answers, one request each;
//! - `items()`: an [`Items`] stream of the list's elements, page after page.
//!
//! The walk starts at the builder's `pagination_page` (page 1 when unset:
//! set it to resume a walk), asks for the builder's `pagination_limit`
//! items a page ([`DEFAULT_PAGE_SIZE`] when unset), and ends after the page
//! that reaches the answer's `total`, at an empty page, or after an error,
//! which it yields last. The media log lists the newest request first, so
//! a request made during a walk pushes the entries after it one place down
//! and the first of the next page is the last of this one: `items()`
//! yields an element it has seen (by its `id`) once.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use futures_util::StreamExt;
//!
//! let client = probe_api::Client::from_env()?;
//! let mut log = client.get_log().items().max_items(500);
//! while let Some(entry) = log.next().await {
//!     let entry = entry?;
//!     println!("{} {:?}", entry.id, entry.url);
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{self, Stream, StreamExt};

use crate::Error;

/// The page size a walk asks for when the builder sets none: ten times the
/// API's own default of 10, so a long list takes a tenth of the requests.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

type BoxStream<'a, T> = Pin<Box<dyn Stream<Item = T> + Send + 'a>>;

/// The answers of a paging operation, one page each (see the [module
/// docs](self)). A [`Stream`]; `futures_util::StreamExt::next` takes them
/// one at a time.
#[must_use = "a stream does nothing until it is polled"]
pub struct Pages<'a, P> {
    inner: BoxStream<'a, Result<P, Error>>,
}

/// What the walk reads of one answer: how many items it holds and, when
/// the answer says, its page number, the page size the server applied and
/// the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageView {
    len: usize,
    position: Option<(u64, u64, u64)>,
}

impl PageView {
    /// A page holding `len` items, position unknown.
    pub(crate) fn holding(len: usize) -> PageView {
        PageView {
            len,
            position: None,
        }
    }

    /// The page's number, its size and the list's total, as the answer's
    /// `pagination` gives them.
    pub(crate) fn position(
        self,
        page: impl PageNumber,
        limit: impl PageNumber,
        total: impl PageNumber,
    ) -> PageView {
        PageView {
            position: Some((page.to_page(), limit.to_page(), total.to_page())),
            ..self
        }
    }

    /// The page after `requested` (asked for with `size` items), or `None`
    /// when this page is the last.
    fn next(self, requested: u64, size: u64) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let next = requested.checked_add(1)?;
        match self.position {
            // A server that answers another page than the one asked for
            // (past its last, say) would answer it again: stop.
            Some((page, _, _)) if page != requested => None,
            Some((page, limit, total)) => (page.saturating_mul(limit) < total).then_some(next),
            None => (self.len as u64 >= size).then_some(next),
        }
    }
}

/// The integer types a page number or size takes in the models: the walk
/// counts in `u64`.
pub(crate) trait PageNumber: Copy {
    /// The value as a count (a negative one as 0).
    fn to_page(self) -> u64;
    /// `page` as this type, if it fits.
    fn from_page(page: u64) -> Option<Self>;
}

macro_rules! page_numbers {
    ($($t:ty),*) => {$(
        impl PageNumber for $t {
            fn to_page(self) -> u64 {
                u64::try_from(self).unwrap_or(0)
            }
            fn from_page(page: u64) -> Option<Self> {
                <$t>::try_from(page).ok()
            }
        }
    )*};
}
page_numbers!(u32, u64, i32, i64, usize);

macro_rules! nonzero_page_numbers {
    ($($t:ty => $inner:ty),*) => {$(
        impl PageNumber for $t {
            fn to_page(self) -> u64 {
                u64::from(self.get())
            }
            fn from_page(page: u64) -> Option<Self> {
                <$inner>::try_from(page).ok().and_then(<$t>::new)
            }
        }
    )*};
}
nonzero_page_numbers!(std::num::NonZeroU32 => u32, std::num::NonZeroU64 => u64);

impl<'a, P: Send + 'a> Pages<'a, P> {
    /// The walk: `fetch(page, size)` sends one request; `view` reads what
    /// the walk needs of its answer.
    pub(crate) fn walk<V, F, Fut>(
        start: Option<u64>,
        size: Option<u64>,
        view: V,
        fetch: F,
    ) -> Pages<'a, P>
    where
        V: Fn(&P) -> PageView + Send + 'a,
        F: FnMut(u64, u64) -> Fut + Send + 'a,
        Fut: Future<Output = Result<P, Error>> + Send + 'a,
    {
        let size = size.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
        let first = start.unwrap_or(1).max(1);
        let state = (Some(first), fetch, view, true);
        let inner = stream::unfold(state, move |(next, mut fetch, view, first)| async move {
            let page = next?;
            match fetch(page, size).await {
                Err(error) => Some((Err(error), (None, fetch, view, false))),
                Ok(answer) => {
                    let seen = view(&answer);
                    // An empty page ends the walk; only a first page is
                    // yielded empty, so an empty list still has its answer.
                    if seen.len == 0 && !first {
                        return None;
                    }
                    let next = seen.next(page, size);
                    Some((Ok(answer), (next, fetch, view, false)))
                }
            }
        });
        Pages {
            inner: Box::pin(inner),
        }
    }
}

impl<P> Stream for Pages<'_, P> {
    type Item = Result<P, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<P> fmt::Debug for Pages<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

/// The elements of a paging operation's list, page after page (see the
/// [module docs](self)); each once, when the items have an `id`. A
/// [`Stream`] that ends after an error, which it yields last.
#[must_use = "a stream does nothing until it is polled"]
pub struct Items<'a, I> {
    inner: BoxStream<'a, Result<I, Error>>,
    remaining: Option<usize>,
}

impl<'a, I: Send + 'a> Items<'a, I> {
    /// The elements of `pages`: `list` takes them out of an answer, `key`
    /// names an element (`None`: no name, never skipped).
    pub(crate) fn new<P, L, K>(pages: Pages<'a, P>, list: L, key: K) -> Items<'a, I>
    where
        P: Send + 'a,
        L: FnMut(P) -> Vec<I> + Send + 'a,
        K: Fn(&I) -> Option<String> + Send + 'a,
    {
        let state = (pages, VecDeque::new(), HashSet::new(), list, key);
        let inner = stream::unfold(
            state,
            |(mut pages, mut ready, mut seen, mut list, key)| async move {
                loop {
                    if let Some(item) = ready.pop_front() {
                        return Some((Ok(item), (pages, ready, seen, list, key)));
                    }
                    match pages.next().await? {
                        Err(error) => return Some((Err(error), (pages, ready, seen, list, key))),
                        Ok(page) => ready.extend(
                            list(page)
                                .into_iter()
                                .filter(|item| key(item).is_none_or(|k| seen.insert(k))),
                        ),
                    }
                }
            },
        );
        Items {
            inner: Box::pin(inner),
            remaining: None,
        }
    }

    /// Ends the walk after `count` elements: no page past the one that
    /// holds the last of them is asked for.
    pub fn max_items(mut self, count: usize) -> Items<'a, I> {
        self.remaining = Some(count);
        self
    }
}

impl<I> Stream for Items<'_, I> {
    type Item = Result<I, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.remaining == Some(0) {
            return Poll::Ready(None);
        }
        let polled = self.inner.as_mut().poll_next(cx);
        if let (Poll::Ready(Some(Ok(_))), Some(remaining)) = (&polled, self.remaining.as_mut()) {
            *remaining -= 1;
        }
        polled
    }
}

impl<I> fmt::Debug for Items<'_, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_ends_at_the_total_at_an_empty_page_or_at_a_short_one() {
        let full = PageView::holding(10);
        assert_eq!(full.position(1u32, 10u32, 25i32).next(1, 10), Some(2));
        assert_eq!(full.position(3u32, 10u32, 25i32).next(3, 10), None);
        assert_eq!(full.position(2u32, 10u32, 20i32).next(2, 10), None);
        // The server applied a smaller page than asked for: its size counts.
        assert_eq!(full.position(2u32, 10u32, 25i32).next(2, 100), Some(3));
        // Another page than the one asked for: the walk stops.
        assert_eq!(full.position(1u32, 10u32, 25i32).next(4, 10), None);
        assert_eq!(PageView::holding(0).next(1, 10), None);
        assert_eq!(PageView::holding(10).next(1, 10), Some(2));
        assert_eq!(PageView::holding(9).next(1, 10), None);
        assert_eq!(PageView::holding(10).next(u64::MAX, 10), None);
    }

    #[test]
    fn page_numbers_convert_within_range() {
        assert_eq!(
            std::num::NonZeroU32::from_page(0),
            None,
            "page 0 does not exist"
        );
        assert_eq!(<i32 as PageNumber>::from_page(u64::MAX), None);
        assert_eq!((-3i32).to_page(), 0);
        assert_eq!(std::num::NonZeroU32::MIN.to_page(), 1);
    }

    /// A list of `total` numbered items served `limit` a page, the newest
    /// first, with `grow` items added before each page after the first.
    fn served(total: u64, grow: u64) -> Pages<'static, Vec<u64>> {
        let mut list: Vec<u64> = (1..=total).rev().collect();
        let mut next = total;
        Pages::walk(
            None,
            Some(10),
            |page: &Vec<u64>| PageView::holding(page.len()),
            move |page, limit| {
                if page > 1 {
                    for _ in 0..grow {
                        next += 1;
                        list.insert(0, next);
                    }
                }
                let start = usize::try_from((page - 1) * limit).unwrap_or(usize::MAX);
                let end = start.saturating_add(usize::try_from(limit).unwrap_or(0));
                let slice = list.get(start..end.min(list.len())).unwrap_or_default();
                std::future::ready(Ok(slice.to_vec()))
            },
        )
    }

    #[tokio::test]
    async fn items_that_shift_onto_the_next_page_are_yielded_once() {
        let items = Items::new(served(35, 1), |page| page, |n: &u64| Some(n.to_string()));
        let got: Vec<u64> = items
            .map(|i| i.expect("no error"))
            .collect::<Vec<_>>()
            .await;
        let mut sorted = got.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), got.len(), "an item came twice: {got:?}");
        assert_eq!(sorted, (1..=35).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_cap_stops_asking_for_pages() {
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = asked.clone();
        let pages = Pages::walk(
            None,
            Some(10),
            |page: &Vec<u64>| PageView::holding(page.len()),
            move |page, _| {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::future::ready(Ok((page * 10..page * 10 + 10).collect::<Vec<u64>>()))
            },
        );
        let got: Vec<_> = Items::new(pages, |p| p, |_: &u64| None)
            .max_items(15)
            .collect()
            .await;
        assert_eq!(got.len(), 15);
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
