//! What a command may reach when `--as NAME` names an account: the same waves, accounts and
//! mail as that account's console pages, and nothing outside its subtree. Something outside
//! is reported as not existing, in the words used for a wave or account that does not exist,
//! so nothing about other scopes leaks. Without `--as` (or with a name that is no account:
//! it only names the actor in the audit log) the command acts as the server's operator,
//! installation-wide — the operator holds the database anyway.

use anyhow::bail;

use crate::auth::Role;
use crate::db::{self, DbConn};
use crate::scope::Scope;

/// The acting account's role and subtree, or the operator's reach (everything).
#[derive(Debug, Clone)]
pub(crate) struct Reach(Option<(Role, Scope)>, Option<String>);

impl Reach {
    /// The reach of `--as name` (see the module header).
    pub(crate) fn of(conn: &mut DbConn, name: Option<&str>) -> anyhow::Result<Self> {
        let acting = super::acting(conn, name)?;
        let own = acting.as_ref().and(name).map(|n| n.trim().to_owned());
        Ok(Self(acting, own))
    }

    /// The subtree the command sees.
    pub(crate) fn scope(&self) -> Scope {
        self.0.as_ref().map_or(Scope::All, |(_, s)| s.clone())
    }

    /// Whether the command acts as an account whose scope is not the whole tree.
    pub(crate) fn is_scoped(&self) -> bool {
        self.scope() != Scope::All
    }

    /// Whether the command may read the words (comments, reasons) of a wave scoped to
    /// `wave_scope`: the operator always; an account as on its console
    /// ([`crate::report::words_readable`]).
    pub(crate) fn reads_words(
        &self,
        conn: &mut DbConn,
        wave_scope: Option<&str>,
    ) -> anyhow::Result<bool> {
        match &self.0 {
            None => Ok(true),
            Some((_, scope)) => Ok(crate::report::words_readable(conn, scope, wave_scope)?),
        }
    }

    /// Whether the acting account has at least role `min` (the operator has every role).
    pub(crate) fn at_least(&self, min: Role) -> bool {
        self.0.as_ref().is_none_or(|(role, _)| *role >= min)
    }

    /// Refuses unless the acting account has at least role `min` (the operator has every
    /// role); `what` names the command in the message.
    pub(crate) fn require(&self, min: Role, what: &str) -> anyhow::Result<()> {
        match &self.0 {
            Some((role, _)) if *role < min => bail!(
                "{what} needs an account of role {} or above (--as names a {})",
                min.as_str(),
                role.as_str()
            ),
            _ => Ok(()),
        }
    }

    /// Wave `id`, if the command may see it: inside the subtree (a wave's own scope lies
    /// inside it). Outside, the error reads as for a wave that does not exist.
    pub(crate) fn wave(&self, conn: &mut DbConn, id: i32) -> anyhow::Result<db::waves::WaveHead> {
        let head = db::waves::find_head(conn, id)?;
        let units = self.units(conn)?;
        match head {
            Some(w) if self.scope().covers(&units, w.scope.as_deref()) => Ok(w),
            _ => Err(crate::wave::WaveError::NotFound(id).into()),
        }
    }

    /// The unit tree, as a scope check needs it (nothing for the whole tree, which
    /// covers everything without it).
    pub(crate) fn units(&self, conn: &mut DbConn) -> anyhow::Result<Vec<db::units::Unit>> {
        Ok(if self.is_scoped() {
            db::units::all(conn)?
        } else {
            Vec::new()
        })
    }

    /// Refuses a wave scope and key holders that would not fit inside the reach, as the
    /// console refuses them ([`crate::web::guard::wave_misfit`]).
    pub(crate) fn fits(
        &self,
        conn: &mut DbConn,
        scope: Option<&str>,
        holders: &[String],
    ) -> anyhow::Result<()> {
        let misfit = crate::web::guard::wave_misfit(conn, &self.scope(), scope, holders)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match misfit {
            Some(why) => bail!("{why}"),
            None => Ok(()),
        }
    }

    /// Account `name` for a command an account may run on itself (its password, its API
    /// tokens), as on its console pages; on another account only as an organizer, and
    /// only on one [`Reach::account`] allows.
    pub(crate) fn own_or_account(
        &self,
        conn: &mut DbConn,
        name: &str,
        what: &str,
    ) -> anyhow::Result<()> {
        if self.1.as_deref() == Some(name.trim()) {
            return Ok(());
        }
        self.require(Role::Organizer, what)?;
        self.account(conn, name)
    }

    /// Account `name`, if the command may act on it: inside the subtree, with a role at
    /// most the acting account's (acting on a higher one would take it over). Outside, the
    /// error reads as for an account that does not exist.
    pub(crate) fn account(&self, conn: &mut DbConn, name: &str) -> anyhow::Result<()> {
        let Some((role, scope)) = &self.0 else {
            return Ok(());
        };
        let units = db::units::all(conn)?;
        let inside = db::accounts::find_user(conn, name.trim())?.is_some_and(|u| {
            Role::parse(&u.role).is_some_and(|r| r <= *role)
                && scope.includes(&units, &Scope::of(u.scope.as_deref()))
        });
        if !inside {
            bail!(
                "there is no account \"{}\" (inside your scope)",
                name.trim()
            );
        }
        Ok(())
    }
}
