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

/// [`rewritten_flat`] of a builder with the fields `fields`.
fn rewritten_flat_with_fields(fields: &str, from: &str, to: &str) -> String {
    let mut f = file_with_fields(fields, &SEND.replace(from, to));
    route_sends_through_layer(&mut f).expect("rewritten");
    prettyplease::unparse(&f).split_whitespace().collect()
}

#[test]
fn a_send_is_routed_through_the_layer_with_its_own_local_names() {
    let mut f = file(SEND);
    assert_eq!(route_sends_through_layer(&mut f).expect("rewritten"), 1);
    let code = prettyplease::unparse(&f);
    assert!(
        code.contains("Result<crate::runtime::Response<types::Thing>, crate::runtime::Error>"),
        "{code}"
    );
    assert!(
        code.contains("crate::runtime::execute(client, &rebuild, &info, &FACTS, false)"),
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
    let flat: String = code.split_whitespace().collect();
    assert!(
        flat.contains(r#".build().map_err(|e|crate::runtime::request_not_built("get_thing",e))?"#),
        "{code}"
    );
    assert!(
        code.contains("crate::runtime::decode_response(response).await"),
        "{code}"
    );
    // The status is read by value, not through a borrow of the answer.
    assert!(code.contains("match response.status {"), "{code}");
    assert!(!code.contains("status()"), "{code}");
    assert!(
        code.contains("Ok(crate::runtime::empty_response(response))"),
        "{code}"
    );
    assert_eq!(
        code.matches("crate::runtime::Error::from_response(response).await")
            .count(),
        2
    );
    assert!(
        !code.contains(".pre(") && !code.contains(".post("),
        "{code}"
    );
    // The request is made by a closure the transport calls for each
    // attempt; the operation info stays outside it.
    let flat: String = code.split_whitespace().collect();
    let closure = flat
        .find("letrebuild=move||->::std::result::Result<::reqwest::Request,crate::runtime::Error")
        .expect("the request is built in a closure");
    // The URL is the client's parsed base URL with the path set.
    let url = flat
        .find(r#"let_url=crate::runtime::request_url(client,format_args!("/thing"));"#)
        .expect("the url");
    let returned = flat
        .find("Ok(_request)};")
        .expect("the closure returns the request");
    let info = flat.find("letinfo=OperationInfo").expect("info");
    assert!(closure < url && url < returned && returned < info, "{code}");
}

#[test]
fn a_path_parameter_is_encoded_as_it_is_formatted() {
    let code = rewritten_flat(
        r#"let _url = format!("{}/thing", client.baseurl);"#,
        r#"let _url = format!("{}/things/{}", client.baseurl, encode_path(&thing_id.to_string()));"#,
    );
    assert!(
        code.contains(
            r#"request_url(client,format_args!("/things/{}",crate::runtime::PathSegment(&thing_id))"#
        ),
        "{code}"
    );
    assert!(!code.contains("encode_path"), "{code}");
}

#[test]
fn a_uuid_path_parameter_is_written_as_it_is() {
    let code = rewritten_flat_with_fields(
        "thing_id: Result<::uuid::Uuid, String>, name: Result<String, String>",
        r#"let _url = format!("{}/thing", client.baseurl);"#,
        r#"let _url = format!("{}/things/{}/{}", client.baseurl, encode_path(&thing_id.to_string()), encode_path(&name.to_string()));"#,
    );
    assert!(
        code.contains(
            r#"format_args!("/things/{}/{}",thing_id.hyphenated(),crate::runtime::PathSegment(&name))"#
        ),
        "{code}"
    );
}

#[test]
fn a_url_not_formatted_from_the_base_url_is_refused() {
    let mut f = file(&SEND.replace(
        r#"format!("{}/thing", client.baseurl)"#,
        r#"format!("{}/thing", other)"#,
    ));
    let error = route_sends_through_layer(&mut f).expect_err("unknown URL");
    assert!(
        error.reason.contains("GetThing::send") && error.reason.contains("client.baseurl"),
        "{error}"
    );
}

#[test]
fn header_parameters_are_written_onto_the_built_request() {
    let code = rewritten_flat(
        "let mut _request = client.client.get(_url).build()?;",
        r#"let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
        header_map.append("api-version", ::reqwest::header::HeaderValue::from_static("v1"));
        let mut _request = client.client.get(_url).headers(header_map).build()?;"#,
    );
    assert!(
        code.contains(
            r#"request_not_built("get_thing",e))?;letheader_map=_request.headers_mut();header_map.append("api-version",const{::reqwest::header::HeaderValue::from_static("v1")},);Ok(_request)"#
        ),
        "{code}"
    );
    // A name the request may already hold is replaced, as the merge did,
    // whether written as a literal or as a `HeaderName`.
    let code = rewritten_flat(
        "let mut _request = client.client.get(_url).build()?;",
        r#"let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
        header_map.append("Accept", ::reqwest::header::HeaderValue::from_static("text/csv"));
        header_map.append(::reqwest::header::HeaderName::from_static("x-trace"), value);
        header_map.append(name, value);
        let mut _request = client.client.get(_url).headers(header_map).build()?;"#,
    );
    assert!(code.contains(r#"header_map.insert("Accept","#), "{code}");
    assert!(
        code.contains(
            r#"header_map.append(const{::reqwest::header::HeaderName::from_static("x-trace")},value,)"#
        ),
        "{code}"
    );
    assert!(code.contains("header_map.insert(name,value)"), "{code}");
    assert!(
        !code.contains("with_capacity") && !code.contains(".headers("),
        "{code}"
    );
}

#[test]
fn a_send_returns_its_state_boxed() {
    let mut f = file(SEND);
    route_sends_through_layer(&mut f).expect("rewritten");
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
fn query_parameters_are_appended_in_one_edit_in_their_order() {
    let code = rewritten_flat(
        r#"client.client.get(_url).build()?"#,
        r#"client.client.get(_url)
            .query(&progenitor_client::QueryParam::new("a[x]", &a))
            .header(ACCEPT, "application/json")
            .query(&progenitor_client::QueryParam::new("b", &b))
            .build()?"#,
    );
    let find = |text: &str| code.find(&text.split_whitespace().collect::<String>());
    assert!(
        find(r#"let mut _request = client.client.get(_url).header(ACCEPT, "application/json").build().map_err(|e| crate::runtime::request_not_built("get_thing", e))?;"#).is_some(),
        "{code}"
    );
    let a = find(r#"query.push("a[x]", &progenitor_client::QueryParam::new("a[x]", &a)"#)
        .expect("a pushed");
    let b =
        find(r#"query.push("b", &progenitor_client::QueryParam::new("b", &b)"#).expect("b pushed");
    let append = find("crate::runtime::append_query(&mut _request, |query|").expect("one append");
    let exec = find("crate::runtime::execute").expect("exec");
    assert!(append < a && a < b && b < exec, "{code}");
    assert!(
        find(r#"crate::runtime::Error::invalid_request_in("get_thing", message"#).is_some(),
        "{code}"
    );
    assert!(!code.contains(".query("), "{code}");
}

#[test]
fn a_streamed_response_is_handed_over_unread() {
    let mut f = file(&SEND.replace(
        "200u16 => ResponseValue::from_response(response).await,",
        "200u16 => Ok(ResponseValue::stream(response)),",
    ));
    route_sends_through_layer(&mut f).expect("rewritten");
    let code = prettyplease::unparse(&f);
    assert!(
        code.contains("crate::runtime::execute(client, &rebuild, &info, &FACTS, true)"),
        "{code}"
    );
    assert!(
        code.contains("Ok(crate::runtime::stream_response(response))"),
        "{code}"
    );
}

#[test]
fn a_query_argument_of_another_shape_is_refused() {
    let mut f = file(&SEND.replace(
        r#"client.client.get(_url).build()?"#,
        r#"client.client.get(_url).query(&[("a", 1)]).build()?"#,
    ));
    let error = route_sends_through_layer(&mut f).expect_err("unknown query argument");
    assert!(
        error.reason.contains("GetThing::send") && error.reason.contains("QueryParam"),
        "{error}"
    );
}

#[test]
fn an_unknown_shape_is_refused_naming_the_method() {
    let mut f = file(&SEND.replace("client.pre(&mut _request, &info).await?;", ""));
    let error = route_sends_through_layer(&mut f).expect_err("no pre hook");
    assert!(error.reason.contains("GetThing::send"), "{error}");

    let mut f = file(&SEND.replace(
        "Error::UnexpectedResponse(response)",
        "Error::Custom(String::new())",
    ));
    let error = route_sends_through_layer(&mut f).expect_err("unknown constructor");
    assert!(error.reason.contains("Error::Custom"), "{error}");
}

#[test]
fn a_header_of_literal_text_is_a_constant() {
    let code = rewritten_flat(
        "let mut _request = client.client.get(_url).build()?;",
        r#"let mut _request = client.client.get(_url)
            .header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static("application/json"))
            .header(::reqwest::header::HeaderName::from_static("x-a"), ::reqwest::header::HeaderValue::from_static(version()))
            .build()?;"#,
    );
    assert!(
        code.contains(r#"const{::reqwest::header::HeaderValue::from_static("application/json""#),
        "{code}"
    );
    assert!(
        code.contains(r#"const{::reqwest::header::HeaderName::from_static("x-a")}"#),
        "{code}"
    );
    // A value that is not a literal is left to run.
    assert!(
        code.contains("::reqwest::header::HeaderValue::from_static(version())"),
        "{code}"
    );
}

#[test]
fn an_optional_query_parameter_is_pushed_only_when_set() {
    let code = rewritten_flat_with_fields(
        "a: Result<Option<String>, String>, b: Result<String, String>",
        "client.client.get(_url).build()?",
        r#"client.client.get(_url)
            .query(&progenitor_client::QueryParam::new("a", &a))
            .query(&progenitor_client::QueryParam::new("b", &b))
            .build()?"#,
    );
    assert!(
        code.contains(
            r#"ifa.is_some(){query.push_set("a",&progenitor_client::QueryParam::new("a",&a),);}query.push("b",&progenitor_client::QueryParam::new("b",&b));"#
        ),
        "{code}"
    );
}
