//! Argon2id password hashes (PHC strings), computed in working memory kept between hashes.
//!
//! Each hash needs 19 MiB. Allocating it afresh for every hash left glibc's allocator holding
//! ever more of it: 150 sign-ins at once took a server from 12 MB to 2.3 GB resident, never
//! given back. The memory is kept instead, one piece for each hash running at once (the
//! caller bounds how many that is), and reused.

use std::sync::Mutex;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Working memory no hash is using now.
static IDLE_MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let idle = || IDLE_MEMORY.lock().unwrap_or_else(|p| p.into_inner());
    let mut memory = idle().pop().unwrap_or_default();
    memory.resize(blocks, Block::default());
    let result = work(&mut memory);
    idle().push(memory);
    result
}

/// The raw hash of `password` under `params`, into `out`.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    with_memory(blocks, |memory| argon2.hash_password_into_with_memory(password, salt, out, memory))
}

/// A new PHC string for `password`: Argon2id with the default parameters and a random salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source works");
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        &salt,
        &mut out,
    )
    .expect("Argon2id hashes any password with its default parameters");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("the default parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("32 bytes make a valid output")),
    };
    hash.to_string()
}

/// Whether `password` is the one `hash` (a PHC string) was made from.
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm);
    let version = parsed.version.map(Version::try_from).transpose();
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&parsed))
    else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let version = version.unwrap_or_default();
    compute(algorithm, version, params, password.as_bytes(), salt, &mut out).is_ok()
        // `Output` compares in constant time.
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_are_argon2s_own() {
        let ours = hash_password("correct horse battery");
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &ours));
        assert!(!verify_password("wrong horse battery", &ours));
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse battery", &parsed).is_err());

        let salt = SaltString::encode_b64(b"sixteen bytes!!!").unwrap();
        let theirs = Argon2::default().hash_password(b"correct horse battery", &salt).unwrap();
        assert!(verify_password("correct horse battery", &theirs.to_string()));
        assert!(!verify_password("correct horse batterY", &theirs.to_string()));
    }

    #[test]
    fn anything_but_a_hash_verifies_nothing() {
        for hash in ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ", "$md5$x$y"] {
            assert!(!verify_password("anything", hash), "{hash}");
        }
    }
}
