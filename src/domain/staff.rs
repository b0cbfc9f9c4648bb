//! The newsroom's people: roles and what each may do.

/// A staff member's role. Permissions are checked on the server for every action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Their own articles; sees the replies on them.
    Author,
    /// All articles, all moderation.
    Editor,
    /// Everything, including users and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Author];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Author => "author",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "editor" => Some(Self::Editor),
            "author" => Some(Self::Author),
            _ => None,
        }
    }

    /// Whether this role may edit every article, not only its own.
    pub fn edits_all_articles(self) -> bool {
        self >= Self::Editor
    }

    /// Whether this role manages staff accounts and settings.
    pub fn manages_users(self) -> bool {
        self == Self::Admin
    }
}

/// A password: at least 10 characters, at most 1,000 (Argon2 needs no more).
pub fn check_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < 10 {
        return Err("The password must have at least 10 characters.".into());
    }
    if length > 1000 {
        return Err("The password must have at most 1,000 characters.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_order_their_powers() {
        assert!(Role::Admin.edits_all_articles() && Role::Editor.edits_all_articles());
        assert!(!Role::Author.edits_all_articles());
        assert!(Role::Admin.manages_users() && !Role::Editor.manages_users());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough!").is_ok());
    }
}

/// What a personal access token may do, beyond reading what is public. A token acts as its
/// account: it can never do more than the account's role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenScope {
    /// Read drafts and scheduled articles the account may edit.
    ReadDrafts,
    /// Create and change articles (as drafts).
    WriteArticles,
    /// Publish, schedule and unpublish.
    Publish,
    /// Every action of the replies' queue.
    Moderate,
}

impl TokenScope {
    pub const ALL: [TokenScope; 4] =
        [Self::ReadDrafts, Self::WriteArticles, Self::Publish, Self::Moderate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadDrafts => "read_drafts",
            Self::WriteArticles => "write_articles",
            Self::Publish => "publish",
            Self::Moderate => "moderate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// What the account page calls it.
    pub fn label(self) -> &'static str {
        match self {
            Self::ReadDrafts => "Read drafts",
            Self::WriteArticles => "Write articles",
            Self::Publish => "Publish, schedule and unpublish",
            Self::Moderate => "Moderate replies",
        }
    }

    /// Scopes as stored: `read_drafts,publish`.
    pub fn join(scopes: &[TokenScope]) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Scopes as stored, unknown ones left out.
    pub fn split(stored: &str) -> Vec<TokenScope> {
        stored.split(',').filter_map(|s| Self::parse(s.trim())).collect()
    }
}
