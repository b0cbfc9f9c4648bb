//! Values in and out of SQL, the same for both backends: [`Param`] binds a statement's `$N`,
//! [`Rows`] holds what a query returned, read column by column with errors instead of panics.

use super::{Result, StoreError};

/// A value bound to `$N` in a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Bool(bool),
    /// A list of ids, for `IN` (bound as a JSON array on SQLite, an array on PostgreSQL).
    Ints(&'a [i64]),
    /// A list of texts, for `IN` (as [`Param::Ints`]).
    Texts(&'a [String]),
    /// Bytes as they are (a file kept in the database: an import's upload).
    Bytes(&'a [u8]),
}

/// PostgreSQL's text cannot hold U+0000, which no person types: refused on both backends
/// alike, so that a value is kept by both or by neither.
pub(crate) fn refuse_nul(params: &[Param<'_>]) -> super::Result<()> {
    let nul = |s: &str| s.as_bytes().contains(&0);
    let any = params.iter().any(|p| match p {
        Param::Text(s) => nul(s),
        Param::Texts(texts) => texts.iter().any(|t| nul(t)),
        _ => false,
    });
    if any {
        return Err(super::StoreError::Invalid(
            "Text with a NUL character (U+0000) cannot be stored; please remove it.",
        ));
    }
    Ok(())
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl From<u64> for Param<'_> {
    fn from(n: u64) -> Self {
        Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Param<'_> {
    fn from(n: usize) -> Self {
        Param::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Param<'_> {
    fn from(b: bool) -> Self {
        Param::Bool(b)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(s: &'a str) -> Self {
        Param::Text(s)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(s: &'a String) -> Self {
        Param::Text(s)
    }
}

impl<'a> From<&'a [i64]> for Param<'a> {
    fn from(ids: &'a [i64]) -> Self {
        Param::Ints(ids)
    }
}

impl<'a> From<&'a [String]> for Param<'a> {
    fn from(texts: &'a [String]) -> Self {
        Param::Texts(texts)
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Param::Null, Into::into)
    }
}

macro_rules! id_params {
    ($($id:ty),*) => {$(
        impl From<$id> for Param<'_> {
            fn from(id: $id) -> Self {
                Param::Int(id.get())
            }
        }
    )*};
}
id_params!(
    crate::domain::ArticleId,
    crate::domain::ReplyId,
    crate::domain::UserId,
    crate::domain::AuthorId,
    crate::domain::SectionId,
    crate::domain::TagId,
    crate::domain::RevisionId,
    crate::domain::EventId,
    crate::domain::PageId,
    crate::domain::PageRevisionId,
    crate::domain::ImportJobId,
    crate::domain::MediaId
);

impl<'a> From<&'a Value> for Param<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Null => Param::Null,
            Value::Int(n) => Param::Int(*n),
            Value::Real(x) => Param::Real(*x),
            Value::Text(s) => Param::Text(s),
            Value::Bool(b) => Param::Bool(*b),
            Value::Bytes(b) => Param::Bytes(b),
        }
    }
}

/// One value a query returned (or a row `byline copy` moves).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl Eq for Value {}

/// What a query returned: its rows, `width` values each, in one allocation.
#[derive(Debug, Default)]
pub struct Rows {
    width: usize,
    values: Vec<Value>,
}

impl Rows {
    pub fn new(width: usize, values: Vec<Value>) -> Self {
        debug_assert!(width == 0 || values.len().is_multiple_of(width));
        Self { width, values }
    }

    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.width).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every row through `read`.
    pub fn map<T>(mut self, mut read: impl FnMut(&mut Row) -> Result<T>) -> Result<Vec<T>> {
        if self.width == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(self.len());
        for values in self.values.chunks_exact_mut(self.width) {
            out.push(read(&mut Row { values })?);
        }
        Ok(out)
    }

    /// The first row through `read`, if there is one.
    pub fn first<T>(mut self, read: impl FnOnce(&mut Row) -> Result<T>) -> Result<Option<T>> {
        if self.width == 0 || self.values.is_empty() {
            return Ok(None);
        }
        let width = self.width;
        Ok(Some(read(&mut Row { values: &mut self.values[..width] })?))
    }

    /// The one integer a `count(*)` (or similar) returned.
    pub fn int(self) -> Result<i64> {
        self.first(|r| r.int(0))?.ok_or_else(|| StoreError::Database("no row returned".into()))
    }

    /// The one boolean an `EXISTS` (or similar) returned.
    pub fn bool(self) -> Result<bool> {
        self.first(|r| r.bool(0))?.ok_or_else(|| StoreError::Database("no row returned".into()))
    }

    /// The rows as they are (for `byline copy`).
    pub fn into_values(self) -> Vec<Vec<Value>> {
        if self.width == 0 {
            return Vec::new();
        }
        let mut rows = Vec::with_capacity(self.len());
        let mut values = self.values.into_iter();
        loop {
            let row: Vec<Value> = values.by_ref().take(self.width).collect();
            if row.is_empty() {
                return rows;
            }
            rows.push(row);
        }
    }
}

/// One row being read. Text is taken out of the row, not copied.
pub struct Row<'a> {
    values: &'a mut [Value],
}

fn mismatch(i: usize, wanted: &str, got: &Value) -> StoreError {
    StoreError::Database(format!("column {i}: expected {wanted}, got {got:?}"))
}

impl Row<'_> {
    fn at(&mut self, i: usize) -> Result<&mut Value> {
        let width = self.values.len();
        self.values
            .get_mut(i)
            .ok_or_else(|| StoreError::Database(format!("column {i} of a row of {width}")))
    }

    pub fn int(&mut self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| mismatch(i, "an integer", &Value::Null))
    }

    pub fn opt_int(&mut self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(n) => Ok(Some(*n)),
            other => Err(mismatch(i, "an integer", other)),
        }
    }

    /// An id column, as its newtype.
    pub fn id<T: From<i64>>(&mut self, i: usize) -> Result<T> {
        self.int(i).map(T::from)
    }

    pub fn opt_id<T: From<i64>>(&mut self, i: usize) -> Result<Option<T>> {
        Ok(self.opt_int(i)?.map(T::from))
    }

    pub fn text(&mut self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| mismatch(i, "text", &Value::Null))
    }

    pub fn opt_text(&mut self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(std::mem::take(s))),
            other => Err(mismatch(i, "text", other)),
        }
    }

    pub fn bytes(&mut self, i: usize) -> Result<Vec<u8>> {
        match self.at(i)? {
            Value::Bytes(b) => Ok(std::mem::take(b)),
            other => Err(mismatch(i, "bytes", other)),
        }
    }

    /// A boolean: PostgreSQL's own, or SQLite's 0 and 1.
    pub fn bool(&mut self, i: usize) -> Result<bool> {
        match self.at(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(n) => Ok(*n != 0),
            other => Err(mismatch(i, "a boolean", other)),
        }
    }

    pub fn real(&mut self, i: usize) -> Result<f64> {
        match self.at(i)? {
            Value::Real(x) => Ok(*x),
            Value::Int(n) => Ok(*n as f64),
            other => Err(mismatch(i, "a number", other)),
        }
    }

    /// A text column holding one of an enum's names.
    pub fn parsed<T>(&mut self, i: usize, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
        let raw = self.text(i)?;
        parse(&raw)
            .ok_or_else(|| StoreError::Database(format!("column {i}: unknown value {raw:?}")))
    }

    /// The value as it is, taken out of the row.
    pub fn take(&mut self, i: usize) -> Result<Value> {
        Ok(std::mem::replace(self.at(i)?, Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_by_column_without_panics() {
        let rows = Rows::new(
            3,
            vec![
                Value::Int(1),
                Value::Text("a".into()),
                Value::Null,
                Value::Int(2),
                Value::Text("b".into()),
                Value::Bool(true),
            ],
        );
        assert_eq!(rows.len(), 2);
        let read = rows
            .map(|r| Ok((r.int(0)?, r.text(1)?, r.opt_int(2).ok().flatten(), r.bool(2).ok())))
            .unwrap();
        assert_eq!(read[0], (1, "a".to_owned(), None, None));
        assert_eq!(read[1].3, Some(true));
        let wrong = Rows::new(1, vec![Value::Text("x".into())]).first(|r| r.int(0));
        assert!(matches!(wrong, Err(StoreError::Database(_))));
        assert!(Rows::new(1, vec![]).first(|r| r.int(0)).unwrap().is_none());
        let back = Rows::new(2, vec![Value::Int(1), Value::Null, Value::Int(2), Value::Null]);
        assert_eq!(back.into_values().len(), 2);
    }
}
