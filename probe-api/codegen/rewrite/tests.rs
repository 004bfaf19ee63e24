//! The rewrite of progenitor's sends, on small sends of its shape.

use super::*;

fn file(body: &str) -> syn::File {
    file_with_fields("", body)
}

/// A builder `GetThing` with the fields `fields` (none: a unit struct).
fn file_with_fields(fields: &str, body: &str) -> syn::File {
    let fields = if fields.is_empty() {
        String::from(";")
    } else {
        format!(" {{ {fields} }}")
    };
    syn::parse_str(&format!(
        "pub mod builder {{ pub struct GetThing{fields} impl GetThing {{ {body} }} }}"
    ))
    .expect("test source parses")
}

const SEND: &str = r#"
    pub async fn send(self) -> Result<ResponseValue<types::Thing>, Error<types::Oops>> {
        let Self { client } = self;
        let _url = format!("{}/thing", client.baseurl);
        let mut _request = client.client.get(_url).build()?;
        let info = OperationInfo { operation_id: "get_thing" };
        client.pre(&mut _request, &info).await?;
        let result = client.exec(_request, &info).await;
        client.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {
            200u16 => ResponseValue::from_response(response).await,
            204u16 => Ok(ResponseValue::empty(response)),
            404u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
            _ => Err(Error::UnexpectedResponse(response)),
        }
    }
"#;

/// `SEND` with `from` replaced by `to`, rewritten, without whitespace
/// (prettyplease breaks long chains where it likes).
fn rewritten_flat(from: &str, to: &str) -> String {
    rewritten_flat_with_fields("", from, to)
}

/// [`rewritten_flat`] of a builder with the fields `fields`, whose
/// operation is a media one when `media`.
fn rewritten_flat_with_fields(fields: &str, from: &str, to: &str) -> String {
    rewritten_media(fields, from, to, false)
}

fn rewritten_media(fields: &str, from: &str, to: &str, media: bool) -> String {
    let mut f = file_with_fields(fields, &SEND.replace(from, to));
    let media: BTreeSet<String> = if media {
        ["get_thing".to_string()].into()
    } else {
        BTreeSet::new()
    };
    route_sends_through_layer(&mut f, &media).expect("rewritten");
    flat(&prettyplease::unparse(&f))
}

/// `code` without whitespace or the trailing commas prettyplease adds to
/// the arguments it breaks over lines.
fn flat(code: &str) -> String {
    let flat: String = code.split_whitespace().collect();
    flat.replace(",)", ")").replace(",|", "|")
}

#[test]
fn a_send_is_routed_through_the_layer_with_its_own_local_names() {
    let mut f = file(SEND);
    assert_eq!(
        route_sends_through_layer(&mut f, &BTreeSet::new()).expect("rewritten"),
        1
    );
    let code = prettyplease::unparse(&f);
    assert!(
        code.contains("Result<crate::runtime::Response<types::Thing>, crate::runtime::Error>"),
        "{code}"
    );
    assert!(
        flat(&code).contains("crate::runtime::execute(client,&info,&FACTS,asked,&rebuild,false)"),
        "{code}"
    );
    // What the transport knows of the operation is kept in a static of
    // the send's own.
    assert!(
        code.contains(
            "static FACTS: crate::runtime::OperationFacts = crate::runtime::OperationFacts::new();"
        ),
        "{code}"
    );
    // No `?` leans on a `From` conversion: the request's build names
    // the operation.
    let flat = flat(&code);
    assert!(
        flat.contains(r#".build().map_err(|e|crate::runtime::request_not_built("get_thing",e))?"#),
        "{code}"
    );
    assert!(
        code.contains("crate::runtime::decode_response(response).await"),
        "{code}"
    );
    assert!(
        code.contains("Ok(crate::runtime::empty_response(response))"),
        "{code}"
    );
    assert_eq!(
        code.matches("crate::runtime::error_response(response).await")
            .count(),
        2
    );
    assert!(
        !code.contains(".pre(") && !code.contains(".post("),
        "{code}"
    );
    // The request is made by a closure the transport calls for each
    // attempt; the operation info stays outside it.
    let closure = flat
        .find("letrebuild=move|_analysis:crate::runtime::Analysis|->::std::result::Result<::reqwest::Request,crate::runtime::Error")
        .expect("the request is built in a closure");
    // progenitor's own URL, query and headers.
    let url = flat
        .find(r#"let_url=format!("{}/thing",client.baseurl);"#)
        .expect("the url");
    // An operation that asks for no analysis time says so.
    assert!(
        flat.contains("letasked=crate::runtime::Analysis::NONE;"),
        "{code}"
    );
    let returned = flat
        .find("Ok(_request)};")
        .expect("the closure returns the request");
    let info = flat.find("letinfo=OperationInfo").expect("info");
    assert!(closure < url && url < returned && returned < info, "{code}");
}

#[test]
fn a_send_returns_its_state_boxed() {
    let mut f = file(SEND);
    route_sends_through_layer(&mut f, &BTreeSet::new()).expect("rewritten");
    assert_eq!(box_sends(&mut f).expect("boxed"), 1);
    let code: String = prettyplease::unparse(&f).split_whitespace().collect();
    assert!(
        code.contains(
            "pubfnsend(self,)->impl::std::future::Future<Output=Result<crate::runtime::Response<types::Thing>,crate::runtime::Error,>,>+Send{::std::boxed::Box::pin(asyncmove{letSelf{client}=self;"
        ),
        "{code}"
    );
    // The reader of the generated file sees through the box.
    let output = shape::send_outputs(&f)
        .first()
        .map(|t| quote::ToTokens::to_token_stream(*t).to_string())
        .unwrap_or_default();
    assert!(output.starts_with("Result <"), "{output}");
    // Boxing twice is refused: a `send()` that is no longer an `async fn`.
    assert!(box_sends(&mut f).is_err());
}

#[test]
fn a_raw_body_is_copied_into_each_attempt() {
    let code = rewritten_flat(
        "client.client.get(_url).build()?",
        "client.client.post(_url).body(body).build()?",
    );
    assert!(
        code.contains(".body(::std::clone::Clone::clone(&body))"),
        "{code}"
    );
}

#[test]
fn a_streamed_response_is_handed_over_unread() {
    let mut f = file(&SEND.replace(
        "200u16 => ResponseValue::from_response(response).await,",
        "200u16 => Ok(ResponseValue::stream(response)),",
    ));
    route_sends_through_layer(&mut f, &BTreeSet::new()).expect("rewritten");
    let code = prettyplease::unparse(&f);
    assert!(
        flat(&code).contains("crate::runtime::execute(client,&info,&FACTS,asked,&rebuild,true)"),
        "{code}"
    );
    assert!(
        code.contains("Ok(crate::runtime::stream_response(response))"),
        "{code}"
    );
}

#[test]
fn an_unknown_shape_is_refused_naming_the_method() {
    let mut f = file(&SEND.replace("client.pre(&mut _request, &info).await?;", ""));
    let error = route_sends_through_layer(&mut f, &BTreeSet::new()).expect_err("no pre hook");
    assert!(error.reason.contains("GetThing::send"), "{error}");

    let mut f = file(&SEND.replace(
        "Error::UnexpectedResponse(response)",
        "Error::Custom(String::new())",
    ));
    let error =
        route_sends_through_layer(&mut f, &BTreeSet::new()).expect_err("unknown constructor");
    assert!(error.reason.contains("Error::Custom"), "{error}");
}

#[test]
fn a_media_query_hands_over_what_the_builder_asked_and_writes_what_was_fitted() {
    let code = rewritten_media(
        "",
        "client.client.get(_url).build()?",
        r#"client.client.get(_url)
            .query(&progenitor_client::QueryParam::new("queue_timeout", &queue_timeout))
            .query(&progenitor_client::QueryParam::new("timeout", &timeout))
            .query(&progenitor_client::QueryParam::new("url", &url))
            .build()?"#,
        true,
    );
    let asked = code
        .find("letasked=crate::runtime::Analysis::asked(timeout,queue_timeout);")
        .expect("what the builder asked, from its locals");
    let closure = code
        .find("letrebuild=move|analysis:crate::runtime::Analysis|")
        .expect("the closure takes the fitted analysis");
    assert!(asked < closure, "{code}");
    assert!(
        code.contains(r#"QueryParam::new("timeout",&analysis.timeout)"#)
            && code.contains(r#"QueryParam::new("queue_timeout",&analysis.queue_timeout)"#)
            && code.contains(r#"QueryParam::new("url",&url)"#),
        "{code}"
    );
}

#[test]
fn a_media_body_hands_over_its_analysis_fields() {
    let code = rewritten_media(
        "",
        "client.client.get(_url).build()?",
        "client.client.post(_url).json(&body).build()?",
        true,
    );
    assert!(
        code.contains("letasked=crate::runtime::Analysis::asked(body.timeout,body.queue_timeout);"),
        "{code}"
    );
    assert!(code.contains("letrebuild=move|_analysis:"), "{code}");
}
