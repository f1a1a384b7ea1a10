//! The query language of IoT Hub's twin query, as far as the fleet page and Microsoft's SDKs use
//! it: the app builds queries (`iothub::TwinQuery`), localhub reads them with [`DeviceQuery`] and
//! answers with what they select, so both sides read one grammar.
//!
//! `SELECT [TOP n] * | path [AS alias], ... FROM devices [WHERE ...]`; in `WHERE`, `=`, `!=`,
//! `<>`, `<`, `>`, `<=`, `>=`, `IN [...]`, `NOT IN [...]` (and `NIN`), `AND`, `OR`, `NOT`,
//! parentheses, `IS_DEFINED(path)`, `STARTSWITH(a, b)`, `ENDSWITH(a, b)`, string (quoted, `\`
//! escapes), number, `true`, `false` and `null` literals (MicrosoftDocs/azure-docs
//! `articles/iot-hub/iot-hub-devguide-query-language.md`, `query-twins.md`). Keywords and property
//! names are read without regard to case (the docs' `SELECT DeviceId, LastActivityTime` answers
//! `deviceId` and `lastActivityTime`). Comparisons hold between values of one primitive type only
//! ("comparisons are supported only between primitive types"); strings compare by their
//! characters, so ISO 8601 dates compare in time order; a missing property makes a comparison
//! false. A projection keeps the twin's spelling and nesting (`properties.reported.certificate`
//! answers `{"properties": {"reported": {"certificate": ...}}}`) and leaves out what is missing.

use std::fmt;

use serde_json::{Map, Value};

use super::{QueryItemType, QUERY_MAX_LENGTH};

/// Why a query cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryError {
    /// Longer than [`QUERY_MAX_LENGTH`] characters.
    TooLong {
        /// Its length in characters.
        length: usize,
    },
    /// Not a query of the language, or a part of it this reader does not take; why, in words.
    NotValid(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { length } => write!(
                f,
                "the query has {length} characters, over {QUERY_MAX_LENGTH}"
            ),
            Self::NotValid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for QueryError {}

/// A query of device twins, read: what it selects, from `devices`, on which condition.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceQuery {
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

    fn query(&mut self) -> Result<DeviceQuery, String> {
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
        Ok(DeviceQuery {
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

impl DeviceQuery {
    /// Reads a query.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        let length = text.chars().count();
        if length > QUERY_MAX_LENGTH {
            return Err(QueryError::TooLong { length });
        }
        let mut p = Parser {
            tokens: tokenize(text).map_err(QueryError::NotValid)?,
            at: 0,
            depth: 0,
        };
        p.query().map_err(QueryError::NotValid)
    }

    /// `TOP n`: at most this many twins in the whole answer.
    pub fn top(&self) -> Option<usize> {
        self.top
    }

    /// Whether `twin` (a whole twin's JSON) is in the answer.
    pub fn matches(&self, twin: &Value) -> bool {
        self.condition.as_ref().is_none_or(|c| holds(c, twin))
    }

    /// The device ids the condition limits the answer to, when it names them: `deviceId = '…'`
    /// or `deviceId IN [...]`, alone or on either side of an `AND`. A store can read just these
    /// twins instead of every one; `matches` still decides on each. `None`: any twin may match.
    pub fn named_device_ids(&self) -> Option<std::collections::BTreeSet<String>> {
        self.condition.as_ref().and_then(named_ids)
    }

    /// What the answer holds of `twin`: all of it, or the projection.
    pub fn project(&self, twin: Value) -> Value {
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
    pub fn item_type(&self) -> QueryItemType {
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

/// The ids `c` limits twins to (see [`DeviceQuery::named_device_ids`]).
fn named_ids(c: &Condition) -> Option<std::collections::BTreeSet<String>> {
    let is_id = |p: &[String]| p.len() == 1 && p[0].eq_ignore_ascii_case("deviceId");
    let strings = |list: &[Value]| {
        list.iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<std::collections::BTreeSet<String>>>()
    };
    match c {
        Condition::In(Operand::Path(p), list) if is_id(p) => strings(list),
        Condition::Compare(Operand::Path(p), Cmp::Eq, Operand::Literal(v))
        | Condition::Compare(Operand::Literal(v), Cmp::Eq, Operand::Path(p))
            if is_id(p) =>
        {
            strings(std::slice::from_ref(v))
        }
        Condition::And(a, b) => match (named_ids(a), named_ids(b)) {
            (Some(x), Some(y)) => Some(x.intersection(&y).cloned().collect()),
            (x, y) => x.or(y),
        },
        _ => None,
    }
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
        let query = DeviceQuery::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
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
        let q = DeviceQuery::parse("SELECT DeviceId, LastActivityTime, properties.reported.certificate, tags.nothing, status AS s FROM devices").expect("query");
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
        let all = DeviceQuery::parse("SELECT * FROM devices").expect("query");
        assert_eq!(all.item_type(), QueryItemType::Twin);
        assert_eq!(all.project(twin()), twin());
        let top = DeviceQuery::parse("SELECT TOP 5 deviceId FROM devices").expect("top");
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
            let e = DeviceQuery::parse(q).expect_err(q);
            assert!(e.to_string().contains(why), "{q}: {e}");
        }
        // Nesting is bounded, not left to the stack.
        for deep in ["(".repeat(8000), "NOT ".repeat(2000)] {
            let e = DeviceQuery::parse(&format!("SELECT * FROM devices WHERE {deep}"))
                .expect_err("deep");
            assert!(e.to_string().contains("nest deeper"), "{e}");
        }
        let fine = format!(
            "SELECT * FROM devices WHERE {}status = 'x'{}",
            "(".repeat(30),
            ")".repeat(30)
        );
        assert!(DeviceQuery::parse(&fine).is_ok());
        for odd in [
            "SELECT * FROM devices WHERE -",
            "SELECT * FROM devices WHERE a = -1e999",
            "SELECT é FROM devices",
            "SELECT * FROM devices WHERE a = '\\",
            "\u{0}",
        ] {
            let _ = DeviceQuery::parse(odd);
        }
        assert!(matches!(
            DeviceQuery::parse(&"x".repeat(QUERY_MAX_LENGTH + 1)),
            Err(QueryError::TooLong { length }) if length == QUERY_MAX_LENGTH + 1
        ));
        assert!(DeviceQuery::parse(&format!(
            "SELECT * FROM devices WHERE deviceId = '{}'",
            "x".repeat(QUERY_MAX_LENGTH)
        ))
        .is_err());
    }

    #[test]
    fn a_condition_naming_device_ids_says_which_so_a_store_reads_only_those() {
        let ids = |q: &str| {
            DeviceQuery::parse(q)
                .expect("query")
                .named_device_ids()
                .map(|s| s.into_iter().collect::<Vec<_>>())
        };
        assert_eq!(
            ids("SELECT deviceId FROM devices WHERE deviceId IN ['b', 'a']"),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            ids("SELECT * FROM devices WHERE 'a' = DeviceId AND status = 'enabled'"),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(
            ids("SELECT * FROM devices WHERE deviceId IN ['a', 'b'] AND deviceId = 'b'"),
            Some(vec!["b".to_owned()])
        );
        // Anything that may let another twin through names none.
        for open in [
            "SELECT * FROM devices",
            "SELECT * FROM devices WHERE deviceId IN ['a'] OR status = 'enabled'",
            "SELECT * FROM devices WHERE NOT deviceId IN ['a']",
            "SELECT * FROM devices WHERE deviceId != 'a'",
            "SELECT * FROM devices WHERE deviceId IN ['a', 1]",
            "SELECT * FROM devices WHERE properties.reported.deviceId = 'a'",
        ] {
            assert_eq!(ids(open), None, "{open}");
        }
    }
}
