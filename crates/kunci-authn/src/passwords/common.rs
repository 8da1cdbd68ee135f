//! A short built-in list of the most used passwords that are long enough to pass the length
//! rule (shorter ones such as `123456` are already refused as too short).
//!
//! Drawn from the top of public breach corpora (RockYou, the NCSC "100k" list, yearly vendor
//! round-ups), plus a few that are common among Indonesian users and the product's own name.
//! Entries are lowercase; callers compare the lowercased password. A breach-corpus check
//! (k-anonymity range queries) can be layered on top later; this list is the offline floor.

/// Lowercase, at least 8 characters, no duplicates (checked by the tests below).
const COMMON_PASSWORDS: &[&str] = &[
    // digits and keyboard walks
    "12345678",
    "123456789",
    "1234567890",
    "12345678910",
    "0123456789",
    "987654321",
    "9876543210",
    "87654321",
    "11111111",
    "111111111",
    "1111111111",
    "00000000",
    "000000000",
    "0000000000",
    "88888888",
    "66666666",
    "12341234",
    "12121212",
    "11223344",
    "123123123",
    "147258369",
    "123456789a",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "1qaz2wsx",
    "1qazxsw2",
    "zaq12wsx",
    "zaq1zaq1",
    "qazwsxedc",
    "qwertyuiop",
    "qwertyui",
    "qwerty12",
    "qwerty123",
    "qwerty1234",
    "1234qwer",
    "asdfghjkl",
    "asdfasdf",
    "asdf1234",
    "zxcvbnm1",
    "zxcvbnm123",
    "abcd1234",
    "abc12345",
    "abc123456",
    "abcdefgh",
    "a1234567",
    "aa123456",
    "a1b2c3d4",
    // the word "password" and friends
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "password!",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "pass1234",
    "passpass",
    "changeme",
    "changeme123",
    "letmein1",
    "letmein123",
    "welcome1",
    "welcome123",
    "trustno1",
    "whatever",
    "secret123",
    "admin123",
    "admin1234",
    "administrator",
    "test1234",
    "testing123",
    "default1",
    // words and names
    "iloveyou",
    "iloveyou1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "starwars",
    "computer",
    "internet",
    "michelle",
    "jennifer",
    "samantha",
    "maverick",
    "midnight",
    "mercedes",
    "corvette",
    "liverpool",
    "chelsea1",
    "danielle",
    "jordan23",
    "hello123",
    "charlie1",
    "whatever1",
    "access14",
    "qwerty1!",
    "babygirl",
    "lovelove",
    "blink182",
    "elephant",
    "butterfly",
    "chocolate",
    "pokemon1",
    "doraemon",
    // common among Indonesian users
    "indonesia",
    "indonesia1",
    "bismillah",
    "bismillah1",
    "sayangku",
    "sayang123",
    "jakarta1",
    "merdeka45",
    // the product itself
    "kunci123",
    "kuncikunci",
];

/// Whether `folded` (the lowercased password) is on the list.
pub(super) fn is_common(folded: &str) -> bool {
    COMMON_PASSWORDS.contains(&folded)
}

#[cfg(test)]
mod tests {
    use super::COMMON_PASSWORDS;
    use std::collections::HashSet;

    #[test]
    fn entries_are_lowercase_long_enough_and_unique() {
        let mut seen = HashSet::new();
        for p in COMMON_PASSWORDS {
            assert_eq!(*p, p.to_lowercase(), "{p} is not lowercase");
            assert!(
                p.chars().count() >= 8,
                "{p} is shorter than the length rule"
            );
            assert!(seen.insert(*p), "{p} is listed twice");
        }
        assert!(COMMON_PASSWORDS.len() >= 100);
    }
}
