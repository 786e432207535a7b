//! The roster.

use diesel::prelude::*;

use super::DbConn;
use super::schema::people;

/// A stored person.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = people)]
pub struct Person {
    /// Lowercased address (key).
    pub email: String,
    /// Name.
    pub name: String,
    /// Code of the unit the person belongs to.
    pub unit: String,
    /// e.g. `faculty`, `student`.
    pub category: String,
    /// Sorted `;`-separated roles.
    pub roles: String,
}

impl Person {
    /// Whether the person has the role (`member`, `secretary`, `committee`).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.split(';').any(|r| r == role)
    }
}

/// Every person, by address.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Person>> {
    people::table
        .select(Person::as_select())
        .order(people::email)
        .load(conn)
}

/// The people of the units `codes` and, wherever they belong, those whose roles include
/// `committee` (they score every unit of a wave), by address as [`all`] orders them: what a
/// wave scoped to a subtree can invite, without reading the rest of the roster — one
/// university's wave in an installation holding a province. The role test is a literal, so
/// that the partial index `people_committee` (migration `…_scale`) serves it.
pub fn of_units_or_committee(conn: &mut DbConn, codes: &[&str]) -> QueryResult<Vec<Person>> {
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    people::table
        .filter(
            people::unit
                .eq_any(codes)
                .or(sql::<Bool>("people.roles LIKE '%committee%'")),
        )
        .select(Person::as_select())
        .order(people::email)
        .load(conn)
}

/// One person.
pub fn find(conn: &mut DbConn, email: &str) -> QueryResult<Option<Person>> {
    people::table
        .find(email)
        .select(Person::as_select())
        .first(conn)
        .optional()
}

/// Inserts new people, many per statement.
pub fn insert(conn: &mut DbConn, rows: &[Person]) -> QueryResult<()> {
    super::insert_chunks!(conn, people::table, rows);
    Ok(())
}

/// Overwrites a stored person's fields.
pub fn update(conn: &mut DbConn, person: &Person) -> QueryResult<usize> {
    diesel::update(people::table.find(&person.email))
        .set(person)
        .execute(conn)
}
