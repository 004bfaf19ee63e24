//! `pages()` and `items()` on the builder of each operation that pages
//! (found by [`crate::codegen::pages::paged`]); the walk itself is the
//! hand-written `crate::runtime::Pages`.

use proc_macro2::Span;
use syn::parse_quote;

use super::Builder;
use crate::codegen::SpecError;
use crate::codegen::ident::snake;
use crate::codegen::pages::{LIMIT, PAGE, PAGINATION, Paged};
use crate::codegen::shape::{self, Shape, last_ident, type_argument};

/// Adds the two methods to the builder of every operation in `paged`.
///
/// # Errors
///
/// An operation that pages by the document's rule but whose generated
/// builder or answer model is not laid out as the methods need (no
/// `pagination` field, no field for the list), named with the operation.
pub fn add_paging(
    file: &mut syn::File,
    shape: &Shape,
    builders: &[Builder],
    paged: &[Paged],
) -> Result<(), SpecError> {
    for op in paged {
        let fail = |reason: String| {
            shape::unexpected(format!("operation `{}` pages, but {reason}", op.rust_name))
        };
        let builder = builders
            .iter()
            .find(|b| b.method == op.rust_name)
            .ok_or_else(|| fail("it has no builder".into()))?;
        let setter = |wire: &str| {
            builder
                .parameters
                .iter()
                .find(|p| p.name == wire)
                .map(|p| p.setter.clone())
                .ok_or_else(|| fail(format!("its builder has no `{wire}`")))
        };
        let (page_field, limit_field) = (setter(PAGE)?, setter(LIMIT)?);
        let answer_name = builder
            .success_type
            .clone()
            .ok_or_else(|| fail("its answer is not a model of `types`".into()))?;
        let answer = shape
            .models
            .get(&answer_name)
            .ok_or_else(|| fail(format!("no model `{answer_name}`")))?;
        let list_field = snake(&op.items);
        let list_type = answer
            .field(&list_field)
            .ok_or_else(|| fail(format!("`{answer_name}` has no field `{list_field}`")))?;
        let list_optional = type_argument(list_type, "Option", 0).is_some();
        let vec = type_argument(list_type, "Option", 0).unwrap_or(list_type);
        let item_inner = type_argument(vec, "Vec", 0)
            .ok_or_else(|| fail(format!("`{answer_name}::{list_field}` is not a `Vec`")))?;
        // The models name each other without a path; the builder module
        // reaches them through `types`.
        let item_model = last_ident(item_inner)
            .map(ToString::to_string)
            .filter(|name| shape.models.contains_key(name));
        let item_type: syn::Type = match &item_model {
            Some(name) => {
                let ident = syn::Ident::new(name, Span::call_site());
                parse_quote!(types::#ident)
            }
            None => item_inner.clone(),
        };
        let pagination_type = answer
            .field(PAGINATION)
            .ok_or_else(|| fail(format!("`{answer_name}` has no field `{PAGINATION}`")))?;
        let pagination_optional = type_argument(pagination_type, "Option", 0).is_some();
        let pagination_name =
            last_ident(type_argument(pagination_type, "Option", 0).unwrap_or(pagination_type))
                .map(ToString::to_string);
        let pagination_model = pagination_name
            .as_ref()
            .and_then(|name| shape.models.get(name));
        // The walk reads the page's position when the model has it; without
        // it the walk ends at a short or empty page.
        let positioned = pagination_model.is_some_and(|m| {
            ["page", "limit", "total"]
                .iter()
                .all(|f| m.field(f).is_some())
        });

        let list = syn::Ident::new(&list_field, Span::call_site());
        let answer_ident = syn::Ident::new(&answer_name, Span::call_site());
        let struct_ident = syn::Ident::new(&builder.name, Span::call_site());
        let pagination = syn::Ident::new(PAGINATION, Span::call_site());
        let len: syn::Expr = if list_optional {
            parse_quote!(page.#list.as_ref().map_or(0, ::std::vec::Vec::len))
        } else {
            parse_quote!(page.#list.len())
        };
        let position: syn::Expr = match (positioned, pagination_optional) {
            (false, _) => parse_quote!(view),
            (true, true) => parse_quote! {
                match page.#pagination.as_ref() {
                    Some(p) => view.position(p.page, p.limit, p.total),
                    None => view,
                }
            },
            (true, false) => parse_quote! {
                view.position(page.#pagination.page, page.#pagination.limit, page.#pagination.total)
            },
        };
        let into_list: syn::Expr = if list_optional {
            parse_quote!(page.into_inner().#list.unwrap_or_default())
        } else {
            parse_quote!(page.into_inner().#list)
        };
        let key_field = op.key.as_ref().map(|k| snake(k)).and_then(|k| {
            let model = shape.models.get(item_model.as_deref()?)?;
            let optional = type_argument(model.field(&k)?, "Option", 0).is_some();
            Some((syn::Ident::new(&k, Span::call_site()), optional))
        });
        let key: syn::Expr = match &key_field {
            Some((key, false)) => parse_quote!(|item: &#item_type| Some(item.#key.to_string())),
            Some((key, true)) => {
                parse_quote!(|item: &#item_type| item.#key.as_ref().map(ToString::to_string))
            }
            None => parse_quote!(|_: &#item_type| None),
        };
        let pages_doc = format!(
            " Every page of the list, one `send()` each, as a stream of answers.\n\n \
             The walk starts at `{PAGE}` (page 1 when unset) and asks for \
             `{LIMIT}` items a page (`probe_api::pages::DEFAULT_PAGE_SIZE` \
             when unset); it ends after the page that reaches the answer's `total`, at an \
             empty page, or after an error, which is the last item. See `probe_api::pages`."
        );
        let items_doc = format!(
            " Every element of the answer's `{}` list, page after page (see \
             [`pages`](Self::pages)); an element that moves onto the next page while the \
             list grows is yielded once{}. Cap the walk with \
             `max_items`.",
            op.items,
            if key_field.is_some() {
                " (elements are told apart by their `id`)"
            } else {
                ""
            }
        );
        let block: syn::ItemImpl = parse_quote! {
            impl<'a> #struct_ident<'a> {
                #[doc = #pages_doc]
                pub fn pages(
                    self,
                ) -> crate::runtime::Pages<'a, crate::runtime::Response<types::#answer_ident>> {
                    // A value that did not convert is kept: the first `send()` reports it.
                    let start = self.#page_field.clone().ok().flatten().map(crate::runtime::PageNumber::to_page);
                    let size = self.#limit_field.clone().ok().flatten().map(crate::runtime::PageNumber::to_page);
                    crate::runtime::Pages::walk(
                        start,
                        size,
                        |page: &crate::runtime::Response<types::#answer_ident>| {
                            let view = crate::runtime::PageView::holding(#len);
                            #position
                        },
                        move |page, limit| {
                            let mut request = self.clone();
                            request.#page_field = request.#page_field.and(Ok(crate::runtime::PageNumber::from_page(page)));
                            request.#limit_field = request.#limit_field.and(Ok(crate::runtime::PageNumber::from_page(limit)));
                            request.send()
                        },
                    )
                }

                #[doc = #items_doc]
                pub fn items(self) -> crate::runtime::Items<'a, #item_type> {
                    crate::runtime::Items::new(
                        self.pages(),
                        |page: crate::runtime::Response<types::#answer_ident>| #into_list,
                        #key,
                    )
                }
            }
        };
        shape::push_to_builders(file, block)?;
        if positioned && let Some(name) = &pagination_name {
            document_position(file, name);
        }
    }
    Ok(())
}

/// What each field of a page's position means; the document leaves them
/// undescribed, and the walk relies on exactly this reading.
const POSITION_DOCS: [(&str, &str); 4] = [
    ("page", "The number of this page, from 1."),
    (
        "limit",
        "How many items a page holds: the page size the server applied, which may be smaller than the one asked for.",
    ),
    ("count", "How many items this page holds."),
    (
        "total",
        "How many items the whole list holds, on every page.",
    ),
];

/// Documents the fields of the pagination model `name` that have no docs.
fn document_position(file: &mut syn::File, name: &str) {
    let models = std::collections::BTreeSet::from([name.to_string()]);
    for item in shape::type_items_mut(file, &models) {
        let shape::TypeItem::Model { name: model, item } = item else {
            continue;
        };
        if model != name {
            continue;
        }
        for (field, doc) in POSITION_DOCS {
            let Some(attrs) = shape::field_attrs_mut(item, field) else {
                continue;
            };
            if !attrs.iter().any(|a| a.path().is_ident("doc")) {
                let doc = format!(" {doc}");
                attrs.insert(0, parse_quote!(#[doc = #doc]));
            }
        }
    }
}
