//! The unit tree.

use diesel::prelude::*;

use super::DbConn;
use super::schema::units;

/// A stored unit.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = units, treat_none_as_null = true)]
pub struct Unit {
    /// The organizer's code (key).
    pub code: String,
    /// The unit's name.
    pub name: String,
    /// `committee`, `general_branch`, `direct_branch` or `branch`.
    pub kind: String,
    /// The parent's code; `None` for the root.
    pub parent: Option<String>,
}

/// Every unit, by code.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Unit>> {
    units::table
        .select(Unit::as_select())
        .order(units::code)
        .load(conn)
}

/// One unit.
pub fn find(conn: &mut DbConn, code: &str) -> QueryResult<Option<Unit>> {
    units::table
        .find(code)
        .select(Unit::as_select())
        .first(conn)
        .optional()
}

/// Inserts a new unit.
pub fn insert(conn: &mut DbConn, unit: &Unit) -> QueryResult<usize> {
    diesel::insert_into(units::table).values(unit).execute(conn)
}

/// Overwrites a stored unit's fields.
pub fn update(conn: &mut DbConn, unit: &Unit) -> QueryResult<usize> {
    diesel::update(units::table.find(&unit.code))
        .set(unit)
        .execute(conn)
}

/// Makes transactions that change the unit tree or the roster take turns (PostgreSQL; on
/// SQLite the write lock does it): an import or 停用 reads the tree, checks the caller's
/// scope and writes with no other roster change in between, so two processes importing the
/// same new rows do not both insert them, and a scope check is never made on a tree that is
/// being moved. The first key ("SR") is apart from the waves' and the accounts' locks.
pub fn hold_roster(conn: &mut DbConn) -> QueryResult<()> {
    super::advisory_lock(conn, "pg_advisory_xact_lock", 0x5352, 0)
}

/// The shared form of [`hold_roster`], taken by opening a wave and by inviting people added
/// since: the roster it reads for the invitations and the frame it freezes are the same,
/// with no import or 停用 committed in between; several openings may run together.
pub fn hold_roster_shared(conn: &mut DbConn) -> QueryResult<()> {
    super::advisory_lock(conn, "pg_advisory_xact_lock_shared", 0x5352, 0)
}
