//! The hub's twin query: `POST /devices/query?api-version=...` with a
//! `hubcert::contract::QuerySpecification`, answered by a page of twins
//! (`hubcert::contract::Twin`) and the paging headers.
//!
//! The language is the subset of IoT Hub's (MicrosoftDocs/azure-docs
//! `articles/iot-hub/iot-hub-devguide-query-language.md`, `query-twins.md`) that the page and
//! Microsoft's SDKs send: `SELECT [TOP n] * | path [AS alias], ... FROM devices [WHERE ...]`; in
//! `WHERE`, `=`, `!=`, `<>`, `<`, `>`, `<=`, `>=`, `IN [...]`, `NOT IN [...]`, `AND`, `OR`,
//! `NOT`, parentheses, `IS_DEFINED(path)`, `STARTSWITH(a, b)`, `ENDSWITH(a, b)`, string
//! (single-quoted, `\` escapes), number, `true`, `false` and `null` literals. Keywords and
//! property names are read without regard to case (the docs' `SELECT DeviceId, LastActivityTime`
//! answers `deviceId` and `lastActivityTime`). Comparisons hold between values of one primitive
//! type only ("comparisons are supported only between primitive types"); strings compare by
//! their characters, so ISO 8601 dates compare in time order; a missing property makes a
//! comparison false.
//!
//! Pages: `x-ms-max-item-count` up to [`QUERY_PAGE_MAX`] (larger asks are cut to it; "the
//! service may use a different value if the value specified is not acceptable": azure-iot-hub's
//! `get_twins`), the same when absent. Devices are walked in id order; the continuation is the
//! last id answered (and how many `TOP` has had), base64url, so a page resumes after it even when
//! devices come and go meanwhile. The last page carries no `x-ms-continuation` (Node's
//! `Query.next` reads an absent header as the end).
//!
//! A query this module cannot read is answered 400 `ArgumentInvalid` in the data plane's error
//! shape (`{"Message":"ErrorCode:...;...","ExceptionMessage":...}`, as azure-iot-sdks#941 shows
//! IoT Hub refusing a query with `ErrorCode:ArgumentNull;BadRequest`).

use std::ops::Bound;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hubcert::contract::{
    AuthKind, Capabilities, ConnectionState, DeviceStatus, QueryItemType, QuerySpecification, Twin,
    TwinProperties, X509Thumbprint, CONTINUATION_HEADER, ITEM_TYPE_HEADER, MAX_ITEM_COUNT_HEADER,
    QUERY_MAX_LENGTH, QUERY_PAGE_MAX,
};
use serde_json::{Map, Value};

use crate::extract::{Body, RequestBody, ServiceCall};
use crate::reply::ApiError;
use crate::store::{DeviceAuth, DeviceRecord, Hub};

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    top: Option<usize>,
    /// `None`: `SELECT *`.
    select: Option<Vec<Projection>>,
    condition: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
struct Projection {
    path: Vec<String>,
    alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(Vec<String>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Operand, Cmp, Operand),
    In(Operand, Vec<Value>),
    IsDefined(Vec<String>),
    StartsWith(Operand, Operand),
    EndsWith(Operand, Operand),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(f64),
    Sym(&'static str),
}

fn tokenize(q: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = q.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '\'' | '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, e)) => s.push(e),
                            None => return Err("a string ends with a lone \\".into()),
                        },
                        Some((_, e)) if e == c => break,
                        Some((_, e)) => s.push(e),
                        None => return Err(format!("a string opened at {i} is not closed")),
                    }
                }
                out.push(Token::Str(s));
            }
            c if c.is_ascii_digit()
                || (c == '-'
                    && q[i + 1..].starts_with(|d: char| d.is_ascii_digit())
                    && !matches!(
                        out.last(),
                        Some(Token::Word(_) | Token::Num(_) | Token::Str(_))
                    )) =>
            {
                let mut end = i + c.len_utf8();
                chars.next();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' {
                        end = j + 1;
                        chars.next();
                    } else {
                        break;
                    }
                }
                let n: f64 = q[i..end]
                    .parse()
                    .map_err(|_| format!("{} is not a number", &q[i..end]))?;
                out.push(Token::Num(n));
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' || d == '$' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(q[i..end].to_owned()));
            }
            _ => {
                let two = q.get(i..i + 2).unwrap_or("");
                let sym = ["<=", ">=", "!=", "<>"]
                    .into_iter()
                    .find(|s| *s == two)
                    .or_else(|| {
                        ["=", "<", ">", "(", ")", ",", ".", "*", "[", "]"]
                            .into_iter()
                            .find(|s| s.starts_with(c))
                    })
                    .ok_or_else(|| format!("unexpected character '{c}' at {i}"))?;
                for _ in 0..sym.len() {
                    chars.next();
                }
                out.push(Token::Sym(sym));
            }
        }
    }
    Ok(out)
}

/// How deep parentheses and `NOT`s may nest: the parser recurses once per level, and a query of
/// 8,192 `(` must not exhaust a worker's stack.
const MAX_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, k: &str) -> bool {
        match self.peek() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case(k) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn expect_keyword(&mut self, k: &str) -> Result<(), String> {
        if self.keyword(k) {
            Ok(())
        } else {
            Err(format!("expected {k}, found {}", self.found()))
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Token::Sym(t)) if *t == s) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), String> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(format!("expected '{s}', found {}", self.found()))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the query".into(),
            Some(Token::Word(w)) => format!("'{w}'"),
            Some(Token::Str(s)) => format!("the string '{s}'"),
            Some(Token::Num(n)) => format!("the number {n}"),
            Some(Token::Sym(s)) => format!("'{s}'"),
        }
    }

    fn path(&mut self) -> Result<Vec<String>, String> {
        let mut path = vec![self.name()?];
        while self.sym(".") {
            path.push(self.name()?);
        }
        Ok(path)
    }

    fn name(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) if !is_reserved(&w) => Ok(w),
            _ => {
                self.at -= 1;
                Err(format!("expected a property name, found {}", self.found()))
            }
        }
    }

    fn query(&mut self) -> Result<Query, String> {
        self.expect_keyword("SELECT")?;
        let top = if self.keyword("TOP") {
            match self.next() {
                Some(Token::Num(n)) if n >= 0.0 && n.fract() == 0.0 => Some(n as usize),
                _ => return Err("TOP takes a whole number".into()),
            }
        } else {
            None
        };
        let select = if self.sym("*") {
            None
        } else {
            let mut list = Vec::new();
            loop {
                let path = self.path()?;
                let alias = if self.keyword("AS") {
                    Some(self.name()?)
                } else {
                    None
                };
                list.push(Projection { path, alias });
                if !self.sym(",") {
                    break;
                }
            }
            Some(list)
        };
        self.expect_keyword("FROM")?;
        match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("devices") => {}
            _ => {
                self.at -= 1;
                return Err(format!(
                    "localhub queries FROM devices only, not {}",
                    self.found()
                ));
            }
        }
        if self.sym(".") {
            return Err(
                "localhub queries device twins only (FROM devices), not modules or jobs".into(),
            );
        }
        let condition = if self.keyword("WHERE") {
            Some(self.or()?)
        } else {
            None
        };
        if self.peek().is_some() {
            return Err(format!("unexpected {} after the query", self.found()));
        }
        Ok(Query {
            top,
            select,
            condition,
        })
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut c = self.and()?;
        while self.keyword("OR") {
            c = Condition::Or(Box::new(c), Box::new(self.and()?));
        }
        Ok(c)
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut c = self.not()?;
        while self.keyword("AND") {
            c = Condition::And(Box::new(c), Box::new(self.not()?));
        }
        Ok(c)
    }

    fn not(&mut self) -> Result<Condition, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("conditions nest deeper than {MAX_DEPTH} levels"));
        }
        let c = if self.keyword("NOT") {
            self.not().map(|c| Condition::Not(Box::new(c)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        c
    }

    fn primary(&mut self) -> Result<Condition, String> {
        if self.sym("(") {
            let c = self.or()?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        for (f, make) in [
            ("IS_DEFINED", None),
            ("STARTSWITH", Some(Condition::StartsWith as fn(_, _) -> _)),
            ("STARTS_WITH", Some(Condition::StartsWith as fn(_, _) -> _)),
            ("ENDSWITH", Some(Condition::EndsWith as fn(_, _) -> _)),
            ("ENDS_WITH", Some(Condition::EndsWith as fn(_, _) -> _)),
        ] {
            if matches!(self.tokens.get(self.at + 1), Some(Token::Sym("("))) && self.keyword(f) {
                self.expect_sym("(")?;
                let c = match make {
                    None => Condition::IsDefined(self.path()?),
                    Some(make) => {
                        let a = self.operand()?;
                        self.expect_sym(",")?;
                        make(a, self.operand()?)
                    }
                };
                self.expect_sym(")")?;
                return Ok(c);
            }
        }
        let left = self.operand()?;
        let negated_in = self.keyword("NOT");
        if negated_in || self.keyword("NIN") || self.keyword("IN") {
            if negated_in {
                self.expect_keyword("IN")?;
            }
            let was_nin = !negated_in
                && self
                    .tokens
                    .get(self.at - 1)
                    .is_some_and(|t| matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("NIN")));
            self.expect_sym("[")?;
            let mut list = Vec::new();
            if !self.sym("]") {
                loop {
                    match self.operand()? {
                        Operand::Literal(v) => list.push(v),
                        Operand::Path(_) => return Err("IN takes a list of constants".into()),
                    }
                    if self.sym("]") {
                        break;
                    }
                    self.expect_sym(",")?;
                }
            }
            let c = Condition::In(left, list);
            return Ok(if negated_in || was_nin {
                Condition::Not(Box::new(c))
            } else {
                c
            });
        }
        let cmp = match self.next() {
            Some(Token::Sym("=")) => Cmp::Eq,
            Some(Token::Sym("!=" | "<>")) => Cmp::Ne,
            Some(Token::Sym("<")) => Cmp::Lt,
            Some(Token::Sym(">")) => Cmp::Gt,
            Some(Token::Sym("<=")) => Cmp::Le,
            Some(Token::Sym(">=")) => Cmp::Ge,
            _ => {
                self.at -= 1;
                return Err(format!("expected a comparison, found {}", self.found()));
            }
        };
        Ok(Condition::Compare(left, cmp, self.operand()?))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.peek().cloned() {
            Some(Token::Str(s)) => {
                self.at += 1;
                Ok(Operand::Literal(Value::String(s)))
            }
            Some(Token::Num(n)) => {
                self.at += 1;
                Ok(Operand::Literal(
                    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
                ))
            }
            Some(Token::Word(w))
                if ["true", "false", "null"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                self.at += 1;
                Ok(Operand::Literal(match w.to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::Null,
                }))
            }
            _ => self.path().map(Operand::Path),
        }
    }
}

fn is_reserved(w: &str) -> bool {
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "AS", "IN", "NIN", "TOP",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

impl Query {
    /// Reads a query; why not, in words.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text.chars().count() > QUERY_MAX_LENGTH {
            return Err(format!(
                "the query is longer than {QUERY_MAX_LENGTH} characters"
            ));
        }
        let mut p = Parser {
            tokens: tokenize(text)?,
            at: 0,
            depth: 0,
        };
        p.query()
    }

    /// Whether `twin` (a whole twin's JSON) is in the answer.
    pub(crate) fn matches(&self, twin: &Value) -> bool {
        self.condition.as_ref().is_none_or(|c| holds(c, twin))
    }

    /// What the answer holds of `twin`: all of it, or the projection.
    pub(crate) fn project(&self, twin: Value) -> Value {
        let Some(list) = &self.select else {
            return twin;
        };
        let mut out = Map::new();
        for p in list {
            let Some((names, value)) = lookup_named(&twin, &p.path) else {
                continue;
            };
            match &p.alias {
                Some(a) => {
                    out.insert(a.clone(), value.clone());
                }
                None => insert_at(&mut out, &names, value.clone()),
            }
        }
        Value::Object(out)
    }

    /// What `x-ms-item-type` says of the answer.
    pub(crate) fn item_type(&self) -> QueryItemType {
        if self.select.is_none() {
            QueryItemType::Twin
        } else {
            QueryItemType::Raw
        }
    }
}

/// The value at `path`, each name matched exactly or else without regard to case, with the
/// names as the twin spells them.
fn lookup_named<'a>(twin: &'a Value, path: &[String]) -> Option<(Vec<String>, &'a Value)> {
    let mut at = twin;
    let mut names = Vec::with_capacity(path.len());
    for name in path {
        let o = at.as_object()?;
        let (k, v) = o
            .get_key_value(name.as_str())
            .or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))?;
        names.push(k.clone());
        at = v;
    }
    Some((names, at))
}

fn lookup<'a>(twin: &'a Value, path: &[String]) -> Option<&'a Value> {
    lookup_named(twin, path).map(|(_, v)| v)
}

fn insert_at(out: &mut Map<String, Value>, names: &[String], value: Value) {
    let Some((last, parents)) = names.split_last() else {
        return;
    };
    let mut at = out;
    for n in parents {
        let slot = at
            .entry(n.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(m) = slot else { return };
        at = m;
    }
    at.insert(last.clone(), value);
}

fn value_of<'a>(o: &'a Operand, twin: &'a Value) -> Option<&'a Value> {
    match o {
        Operand::Path(p) => lookup(twin, p),
        Operand::Literal(v) => Some(v),
    }
}

fn holds(c: &Condition, twin: &Value) -> bool {
    match c {
        Condition::And(a, b) => holds(a, twin) && holds(b, twin),
        Condition::Or(a, b) => holds(a, twin) || holds(b, twin),
        Condition::Not(a) => !holds(a, twin),
        Condition::IsDefined(p) => lookup(twin, p).is_some(),
        Condition::Compare(a, cmp, b) => match (value_of(a, twin), value_of(b, twin)) {
            (Some(a), Some(b)) => compare(a, *cmp, b),
            _ => false,
        },
        Condition::In(a, list) => {
            value_of(a, twin).is_some_and(|v| list.iter().any(|l| compare(v, Cmp::Eq, l)))
        }
        Condition::StartsWith(a, b) | Condition::EndsWith(a, b) => {
            match (value_of(a, twin), value_of(b, twin)) {
                (Some(Value::String(s)), Some(Value::String(p))) => {
                    if matches!(c, Condition::StartsWith(..)) {
                        s.starts_with(p.as_str())
                    } else {
                        s.ends_with(p.as_str())
                    }
                }
                _ => false,
            }
        }
    }
}

/// A comparison of two primitives of one type; anything else is false.
fn compare(a: &Value, cmp: Cmp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let order: Option<Ordering> = match (a, b) {
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::Bool(a), Value::Bool(b)) if matches!(cmp, Cmp::Eq | Cmp::Ne) => Some(a.cmp(b)),
        (Value::Null, Value::Null) if matches!(cmp, Cmp::Eq | Cmp::Ne) => Some(Ordering::Equal),
        _ => None,
    };
    order.is_some_and(|o| match cmp {
        Cmp::Eq => o.is_eq(),
        Cmp::Ne => o.is_ne(),
        Cmp::Lt => o.is_lt(),
        Cmp::Gt => o.is_gt(),
        Cmp::Le => o.is_le(),
        Cmp::Ge => o.is_ge(),
    })
}

const NEVER: &str = "0001-01-01T00:00:00Z";

/// `unix_ms` as the hub writes times (`2026-11-30T10:00:00.123Z`).
pub(crate) fn iso_ms(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| NEVER.to_owned())
}

/// A device's twin as the query sees it.
pub(crate) fn twin_of(d: &DeviceRecord, connected: bool) -> Twin {
    let (kind, x509) = match &d.auth {
        DeviceAuth::CertificateAuthority => {
            (AuthKind::CertificateAuthority, X509Thumbprint::default())
        }
        DeviceAuth::SelfSigned { primary, secondary } => (
            AuthKind::SelfSigned,
            X509Thumbprint {
                primary_thumbprint: primary.clone(),
                secondary_thumbprint: secondary.clone(),
            },
        ),
        DeviceAuth::Sas { .. } => (AuthKind::Sas, X509Thumbprint::default()),
        DeviceAuth::None => (AuthKind::None, X509Thumbprint::default()),
    };
    let last = d.last_activity.map_or_else(|| NEVER.to_owned(), iso_ms);
    let section = |props: &Map<String, Value>, version: u64| {
        let mut m = props.clone();
        m.insert(
            "$metadata".into(),
            serde_json::json!({ "$lastUpdated": last }),
        );
        m.insert("$version".into(), version.into());
        m
    };
    Twin {
        device_id: d.device_id.clone(),
        etag: Some(format!("AAAAAAAAAA{}", d.reported_version)),
        device_etag: Some(d.etag.clone()),
        version: Some(d.reported_version + 1),
        status: Some(if d.enabled {
            DeviceStatus::Enabled
        } else {
            DeviceStatus::Disabled
        }),
        status_update_time: Some(NEVER.into()),
        connection_state: Some(if connected {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected
        }),
        last_activity_time: Some(last.clone()),
        cloud_to_device_message_count: Some(0),
        authentication_type: Some(kind),
        x509_thumbprint: Some(x509),
        capabilities: Some(Capabilities {
            iot_edge: d.service.iot_edge,
        }),
        tags: Some(d.service.tags.clone()),
        properties: Some(TwinProperties {
            desired: Some(section(&d.service.desired, 1)),
            reported: Some(section(&d.reported, d.reported_version)),
        }),
        ..Twin::default()
    }
}

/// Where a page resumes: after `after` (a device id), with `emitted` answered so far (for TOP).
fn continuation(after: &str, emitted: usize) -> String {
    B64.encode(format!("{emitted}:{after}"))
}

fn resume(token: &str) -> Option<(usize, String)> {
    let raw = String::from_utf8(B64.decode(token.trim()).ok()?).ok()?;
    let (n, after) = raw.split_once(':')?;
    Some((n.parse().ok()?, after.to_owned()))
}

/// One page of `query` over the hub's devices from `resume_at`: the items, and where the next
/// page resumes (`None` when this is the last).
pub(crate) fn run_page(
    hub: &Hub,
    query: &Query,
    resume_at: Option<(usize, String)>,
    page: usize,
) -> (Vec<Value>, Option<String>) {
    let connected: std::collections::HashSet<String> =
        crate::store::lock(&hub.sessions).keys().cloned().collect();
    let (mut emitted, after) = resume_at.unwrap_or((0, String::new()));
    let limit = query.top.map_or(usize::MAX, |t| t.saturating_sub(emitted));
    let want = page.min(limit);
    hub.read(|_, devices| {
        let mut items = Vec::new();
        let range = if after.is_empty() {
            devices.range::<str, _>((Bound::Unbounded, Bound::Unbounded))
        } else {
            devices.range::<str, _>((Bound::Excluded(after.as_str()), Bound::Unbounded))
        };
        let mut last = None;
        let mut more = false;
        for (id, d) in range {
            if items.len() == want {
                more = true;
                break;
            }
            let twin = match serde_json::to_value(twin_of(d, connected.contains(id))) {
                Ok(t) => t,
                Err(_) => continue,
            };
            if query.matches(&twin) {
                items.push(query.project(twin));
                last = Some(id.as_str());
            }
        }
        emitted += items.len();
        let top_done = query.top.is_some_and(|t| emitted >= t);
        let next = match last {
            Some(l) if more && !top_done => Some(continuation(l, emitted)),
            _ => None,
        };
        (items, next)
    })
}

impl RequestBody for QuerySpecification {
    fn rejection(e: serde_json::Error) -> ApiError {
        refused(format!("The body is not a query specification ({e})"))
    }
}

fn refused(message: String) -> ApiError {
    ApiError::hub(StatusCode::BAD_REQUEST, "ArgumentInvalid", message)
}

/// `POST /devices/query`.
pub(crate) async fn query_twins(
    _: ServiceCall,
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Body(spec): Body<QuerySpecification>,
) -> Result<Response, ApiError> {
    let query =
        Query::parse(&spec.query).map_err(|why| refused(format!("Query is not valid: {why}")))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // An unreadable or zero size is the default, as the service "may use a different value".
    let page = header(MAX_ITEM_COUNT_HEADER)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(QUERY_PAGE_MAX, |n| n.min(QUERY_PAGE_MAX));
    let resume_at = match header(CONTINUATION_HEADER).filter(|t| !t.is_empty()) {
        Some(t) => {
            Some(resume(t).ok_or_else(|| refused("The continuation token is not valid".into()))?)
        }
        None => None,
    };
    let (items, next) = run_page(&hub, &query, resume_at, page);
    let mut response = Json(items).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(query.item_type().as_str()) {
        h.insert(ITEM_TYPE_HEADER, v);
    }
    if let Some(v) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        h.insert(CONTINUATION_HEADER, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn twin() -> Value {
        json!({
            "deviceId": "sensor-01",
            "status": "enabled",
            "authenticationType": "selfSigned",
            "lastActivityTime": "2026-11-30T10:00:00.000Z",
            "tags": {"location": {"region": "US", "floor": 3}},
            "properties": {
                "desired": {"interval": 30, "$version": 2},
                "reported": {
                    "certificate": {"validUntil": "2026-12-20T00:00:00Z", "issuer": "CN=Root"},
                    "online": true,
                    "$version": 4
                }
            }
        })
    }

    #[track_caller]
    fn check(q: &str, expected: bool) {
        let query = Query::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(query.matches(&twin()), expected, "{q}");
    }

    #[test]
    fn where_conditions_hold_as_the_query_language_says() {
        check("SELECT * FROM devices", true);
        check("select * from DEVICES where deviceId = 'sensor-01'", true);
        check("SELECT * FROM devices WHERE DeviceId != 'sensor-01'", false);
        check("SELECT * FROM devices WHERE status <> 'disabled'", true);
        check(
            "SELECT * FROM devices WHERE tags.location.region = 'US' AND tags.location.floor >= 3",
            true,
        );
        check("SELECT * FROM devices WHERE tags.location.floor > 3 OR authenticationType = 'selfSigned'", true);
        check("SELECT * FROM devices WHERE (tags.location.floor > 3 OR status = 'enabled') AND NOT IS_DEFINED(tags.owner)", true);
        check(
            "SELECT * FROM devices WHERE properties.desired.interval < 60.5",
            true,
        );
        check(
            "SELECT * FROM devices WHERE properties.desired.interval <= -1",
            false,
        );
        check(
            "SELECT * FROM devices WHERE properties.reported.online = true",
            true,
        );
        // ISO dates compare as strings, in time order.
        check("SELECT * FROM devices WHERE properties.reported.certificate.validUntil < '2027-01-01T00:00:00Z'", true);
        check(
            "SELECT * FROM devices WHERE properties.reported.certificate.validUntil > '2027-01-01'",
            false,
        );
        check(
            "SELECT * FROM devices WHERE lastActivityTime >= '2026-11-30'",
            true,
        );
        check(
            "SELECT * FROM devices WHERE IS_DEFINED(properties.reported.certificate)",
            true,
        );
        check(
            "SELECT * FROM devices WHERE STARTSWITH(deviceId, 'sensor-')",
            true,
        );
        check(
            "SELECT * FROM devices WHERE ENDSWITH(deviceId, '02')",
            false,
        );
        check(
            "SELECT * FROM devices WHERE tags.location.region IN ['EU', 'US']",
            true,
        );
        check(
            "SELECT * FROM devices WHERE tags.location.region NOT IN ['EU', 'US']",
            false,
        );
        check(
            "SELECT * FROM devices WHERE tags.location.region NIN ['EU']",
            true,
        );
        // Missing properties and mixed types make a comparison false, and its negation true.
        check("SELECT * FROM devices WHERE tags.owner = 'x'", false);
        check("SELECT * FROM devices WHERE tags.owner != 'x'", false);
        check(
            "SELECT * FROM devices WHERE tags.location.floor = '3'",
            false,
        );
        check(
            "SELECT * FROM devices WHERE NOT (tags.location.floor = '3')",
            true,
        );
        check("SELECT * FROM devices WHERE deviceId = 'it\\'s'", false);
    }

    #[test]
    fn a_projection_keeps_the_twins_spelling_and_nesting_and_drops_what_is_missing() {
        let q = Query::parse("SELECT DeviceId, LastActivityTime, properties.reported.certificate, tags.nothing, status AS s FROM devices").expect("query");
        assert_eq!(q.item_type(), QueryItemType::Raw);
        assert_eq!(
            q.project(twin()),
            json!({
                "deviceId": "sensor-01",
                "lastActivityTime": "2026-11-30T10:00:00.000Z",
                "properties": {"reported": {"certificate": {"validUntil": "2026-12-20T00:00:00Z", "issuer": "CN=Root"}}},
                "s": "enabled"
            })
        );
        let all = Query::parse("SELECT * FROM devices").expect("query");
        assert_eq!(all.item_type(), QueryItemType::Twin);
        assert_eq!(all.project(twin()), twin());
        let top = Query::parse("SELECT TOP 5 deviceId FROM devices").expect("top");
        assert_eq!(top.top, Some(5));
    }

    #[test]
    fn what_it_cannot_read_is_refused_with_a_reason() {
        for (q, why) in [
            ("", "expected SELECT"),
            ("SELECT FROM devices", "property name"),
            ("SELECT * FROM devices.modules", "device twins only"),
            ("SELECT * FROM jobs", "FROM devices only"),
            ("SELECT * FROM devices WHERE", "property name"),
            ("SELECT * FROM devices WHERE status = ", "property name"),
            ("SELECT * FROM devices WHERE status = 'x", "not closed"),
            ("SELECT * FROM devices WHERE (status = 'x'", "expected ')'"),
            (
                "SELECT * FROM devices WHERE status ~ 'x'",
                "unexpected character",
            ),
            ("SELECT * FROM devices WHERE status", "comparison"),
            (
                "SELECT * FROM devices ORDER BY deviceId",
                "unexpected 'ORDER'",
            ),
            (
                "SELECT * FROM devices WHERE status IN [deviceId]",
                "constants",
            ),
            ("SELECT TOP x * FROM devices", "whole number"),
        ] {
            let e = Query::parse(q).expect_err(q);
            assert!(e.contains(why), "{q}: {e}");
        }
        // Nesting is bounded, not left to the stack.
        for deep in ["(".repeat(8000), "NOT ".repeat(2000)] {
            let e = Query::parse(&format!("SELECT * FROM devices WHERE {deep}")).expect_err("deep");
            assert!(e.contains("nest deeper"), "{e}");
        }
        let fine = format!(
            "SELECT * FROM devices WHERE {}status = 'x'{}",
            "(".repeat(30),
            ")".repeat(30)
        );
        assert!(Query::parse(&fine).is_ok());
        for odd in [
            "SELECT * FROM devices WHERE -",
            "SELECT * FROM devices WHERE a = -1e999",
            "SELECT é FROM devices",
            "SELECT * FROM devices WHERE a = '\\",
            "\u{0}",
        ] {
            let _ = Query::parse(odd);
        }
        assert!(Query::parse(&format!(
            "SELECT * FROM devices WHERE deviceId = '{}'",
            "x".repeat(QUERY_MAX_LENGTH)
        ))
        .is_err());
    }

    #[test]
    fn a_continuation_names_where_to_resume_and_garbage_is_none() {
        let t = continuation("dev:1", 7);
        assert_eq!(resume(&t), Some((7, "dev:1".to_owned())));
        assert_eq!(resume("%%%"), None);
        assert_eq!(resume(&B64.encode("x")), None);
    }
}
