//! `sanping demo --province`: the demo university becomes one of two universities under a
//! provincial committee (省委教育工委), each with its own organizer login, and the provincial
//! organizer sees both. The second university is small (its units and roster, no waves): its
//! organizer starts from an empty console, as a university joining the installation would.

use crate::auth::{self, Role};
use crate::db::{self, DbConn};
use crate::import;

/// The provincial committee's unit code (the new root).
pub const ROOT: &str = "PROV";
/// The demo university's code (the old root, unchanged).
pub const FIRST: &str = "U";
/// The second university's code.
pub const SECOND: &str = "U2";

/// The logins the province adds: (username, password, scope). `None`: the whole province.
pub const LOGINS: [(&str, &str, Option<&str>); 3] = [
    ("province", "sanping-province", None),
    ("u1-organizer", "sanping-u1", Some(FIRST)),
    ("u2-organizer", "sanping-u2", Some(SECOND)),
];

/// The second university's colleges: (code suffix, name).
const COLLEGES: [(&str, &str); 3] = [("LI", "文学院"), ("LA", "法学院"), ("BI", "生命科学学院")];

/// Puts the built demo university under a provincial committee, adds the second university
/// and the three organizer logins. The demo's waves (of the whole tree until now) are scoped
/// to the first university, whose units they evaluate.
pub fn add(conn: &mut DbConn) -> anyhow::Result<()> {
    let mut units = String::from("code,name,kind,parent\n");
    units += &format!("{ROOT},省委教育工委,committee,\n");
    let first = db::units::find(conn, FIRST)?
        .ok_or_else(|| anyhow::anyhow!("the demo university {FIRST} is missing"))?;
    units += &format!("{FIRST},{},committee,{ROOT}\n", first.name);
    units += &format!("{SECOND},第二示范大学党委,committee,{ROOT}\n");
    let mut people = String::from("email,name,unit,category,role\n");
    for (i, (code, name)) in COLLEGES.iter().enumerate() {
        let college = format!("{SECOND}-{code}");
        units += &format!("{college},{name}党总支,general_branch,{SECOND}\n");
        for (suffix, branch, category) in [
            ("T", "教工党支部", "faculty"),
            ("S", "学生党支部", "student"),
        ] {
            let b = format!("{college}-{suffix}");
            units += &format!("{b},{name}{branch},branch,{college}\n");
            for n in 0..12 {
                let role = if n == 0 { "secretary" } else { "member" };
                people += &format!(
                    "u2.{}.{}{n}@demo.example.edu.cn,二校{}{n}号,{b},{category},{role}\n",
                    code.to_lowercase(),
                    suffix.to_lowercase(),
                    i + 1
                );
            }
        }
    }
    import::units(conn, units.as_bytes())?;
    import::people(conn, people.as_bytes())?;
    db::waves::scope_unscoped(conn, FIRST)?;
    for (name, password, scope) in LOGINS {
        auth::add_scoped_user_as(conn, "system", None, name, Role::Organizer, scope, password)?;
    }
    Ok(())
}
