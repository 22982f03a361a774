//! Arithmetic formulas over named parameters, as theory files write resource estimates
//! (`memory = "8 * n * (d + m) + 8 * n * m * d"`).
//!
//! Grammar (usual precedence, `^` right-associative):
//! `expr := term (('+' | '-') term)*`, `term := power (('*' | '/') power)*`,
//! `power := atom ('^' power)?`, `atom := number | name | name '(' expr (',' expr)* ')' | '(' expr ')' | '-' atom`.
//! Functions: `max`, `min`, `log2`. A name must be a parameter of the run; evaluation is in
//! f64, so an overflowing estimate is +∞ (which every budget refuses) rather than a wrapped
//! integer.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Evaluates `text` with `vars`; the error names the formula and what is wrong.
pub fn eval(text: &str, vars: &BTreeMap<String, f64>) -> Result<f64> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        vars,
    };
    let v = p.expr().and_then(|v| {
        p.skip();
        if p.i == p.s.len() {
            Ok(v)
        } else {
            Err(format!("unexpected `{}` at {}", p.s[p.i] as char, p.i))
        }
    });
    v.map_err(|why| Error::input(format!("formula `{text}`: {why}")))
}

/// The names a formula uses (to check a theory file's formulas against its parameters).
pub fn names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' {
            cur.push(c);
        } else {
            if cur.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && !matches!(cur.as_str(), "max" | "min" | "log2")
                && !out.contains(&cur)
            {
                out.push(cur.clone());
            }
            cur.clear();
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    vars: &'a BTreeMap<String, f64>,
}

type Parsed = std::result::Result<f64, String>;

impl Parser<'_> {
    fn skip(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Parsed {
        let mut v = self.term()?;
        loop {
            if self.eat(b'+') {
                v += self.term()?;
            } else if self.eat(b'-') {
                v -= self.term()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn term(&mut self) -> Parsed {
        let mut v = self.power()?;
        loop {
            if self.eat(b'*') {
                v *= self.power()?;
            } else if self.eat(b'/') {
                v /= self.power()?;
            } else {
                return Ok(v);
            }
        }
    }

    fn power(&mut self) -> Parsed {
        let base = self.atom()?;
        if self.eat(b'^') {
            return Ok(base.powf(self.power()?));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Parsed {
        self.skip();
        if self.eat(b'(') {
            let v = self.expr()?;
            return if self.eat(b')') {
                Ok(v)
            } else {
                Err(format!("missing `)` at {}", self.i))
            };
        }
        if self.eat(b'-') {
            return Ok(-self.atom()?);
        }
        let start = self.i;
        match self.s.get(self.i) {
            Some(c) if c.is_ascii_digit() || *c == b'.' => {
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit()
                        || self.s[self.i] == b'.'
                        || self.s[self.i] == b'e'
                        || ((self.s[self.i] == b'-' || self.s[self.i] == b'+')
                            && self.s[self.i - 1] == b'e'))
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                t.parse().map_err(|_| format!("`{t}` is not a number"))
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                if self.eat(b'(') {
                    let mut args = vec![self.expr()?];
                    while self.eat(b',') {
                        args.push(self.expr()?);
                    }
                    if !self.eat(b')') {
                        return Err(format!("missing `)` after the arguments of {name}"));
                    }
                    return match (name, args.as_slice()) {
                        ("max", [_, ..]) => Ok(args.iter().copied().fold(f64::MIN, f64::max)),
                        ("min", [_, ..]) => Ok(args.iter().copied().fold(f64::MAX, f64::min)),
                        ("log2", [x]) => Ok(x.log2()),
                        _ => Err(format!(
                            "unknown function {name} of {} arguments",
                            args.len()
                        )),
                    };
                }
                self.vars
                    .get(name)
                    .copied()
                    .ok_or_else(|| format!("unknown parameter `{name}`"))
            }
            Some(c) => Err(format!("unexpected `{}` at {}", *c as char, self.i)),
            None => Err("unexpected end".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, f64> {
        BTreeMap::from([("n".into(), 10.0), ("d".into(), 3.0), ("m_2".into(), 4.0)])
    }

    #[test]
    fn precedence_associativity_and_functions() {
        let v = vars();
        assert_eq!(eval("8 * n * (d + m_2)", &v).unwrap(), 560.0);
        assert_eq!(eval("n - d - 1", &v).unwrap(), 6.0);
        assert_eq!(eval("n / d / 2", &v).unwrap(), 10.0 / 3.0 / 2.0);
        assert_eq!(eval("2 ^ 3 ^ 2", &v).unwrap(), 512.0);
        assert_eq!(eval("-n + 2*d^2", &v).unwrap(), 8.0);
        assert_eq!(eval("max(n, d, 11) + min(n, d)", &v).unwrap(), 14.0);
        assert_eq!(eval("log2(8) * 1.5e2", &v).unwrap(), 450.0);
        assert_eq!(eval("1e400 * n", &v).unwrap(), f64::INFINITY);
    }

    #[test]
    fn malformed_formulas_name_the_problem() {
        let v = vars();
        for (f, why) in [
            ("n *", "unexpected end"),
            ("(n + d", "missing `)`"),
            ("n + k", "unknown parameter `k`"),
            ("n d", "unexpected `d`"),
            ("sqrt(n)", "unknown function sqrt"),
            ("n $ d", "unexpected `$`"),
        ] {
            let e = eval(f, &v).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(f), "{f}: {e}");
        }
    }

    #[test]
    fn names_lists_the_parameters_not_the_functions() {
        assert_eq!(names("8 * max(n, d) + m_2 * 2e3"), vec!["n", "d", "m_2"]);
    }
}
