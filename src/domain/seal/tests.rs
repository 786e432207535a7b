use super::*;

fn shares_of(key: &SecretKey, t: u8, n: u8) -> Vec<Zeroizing<Vec<u8>>> {
    split(key, t, n)
}

#[test]
fn a_sealed_sheet_opens_only_with_its_key_and_info() {
    let key = SecretKey::generate();
    let other = SecretKey::generate();
    let sealed = seal(&key.public_key(), b"wave 1", b"answers").unwrap();
    assert_eq!(sealed.len(), b"answers".len() + OVERHEAD);
    assert_eq!(&*open(&key, b"wave 1", &sealed).unwrap(), b"answers");
    assert_eq!(open(&other, b"wave 1", &sealed), Err(SealError::Open));
    assert_eq!(open(&key, b"wave 2", &sealed), Err(SealError::Open));
    let mut tampered = sealed.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert_eq!(open(&key, b"wave 1", &tampered), Err(SealError::Open));
    assert!(open(&key, b"wave 1", &sealed[..10]).is_err());
}

#[test]
fn two_seals_of_the_same_sheet_share_nothing() {
    let key = SecretKey::generate();
    let a = seal(&key.public_key(), b"w", b"same").unwrap();
    let b = seal(&key.public_key(), b"w", b"same").unwrap();
    assert_ne!(a[..KEY_LEN], b[..KEY_LEN]);
    assert_ne!(a[KEY_LEN..], b[KEY_LEN..]);
}

#[test]
fn padding_leaves_at_most_three_lengths_and_round_trips() {
    let sizes = pad_sizes(700, 12_000);
    assert!(sizes[0] < sizes[1] && sizes[1] < sizes[2]);
    let mut lengths = std::collections::BTreeSet::new();
    for len in [0, 1, 500, 700, 900, 1500, 3000, 6000, 12_700] {
        let plain = vec![b'x'; len];
        let padded = pad(&plain, &sizes);
        lengths.insert(padded.len());
        assert_eq!(unpad(&padded).unwrap(), plain.as_slice());
    }
    assert_eq!(lengths.len(), 3, "{lengths:?}");
    assert!(unpad(&[0, 0, 0, 9, 1]).is_err());
}

#[test]
fn an_account_key_unwraps_only_with_its_password() {
    let key = SecretKey::generate();
    let wrapped = wrap(&key, "correct horse");
    let back = unwrap(&wrapped, "correct horse").unwrap();
    assert_eq!(back.public_key(), key.public_key());
    assert!(matches!(
        unwrap(&wrapped, "wrong horse"),
        Err(SealError::WrongPassword)
    ));
    // A new wrapping uses a new salt and nonce.
    assert_ne!(wrap(&key, "correct horse"), wrapped);
}

#[test]
fn any_threshold_of_shares_rebuilds_the_key_and_fewer_do_not() {
    let key = SecretKey::generate();
    let public = key.public_key();
    let shares = shares_of(&key, 3, 5);
    assert_eq!(shares.len(), 5);
    check_split(&shares, 3, &public).unwrap();
    for skip in 0..5 {
        let some: Vec<_> = shares
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip && *i != (skip + 1) % 5)
            .map(|(_, s)| s.clone())
            .collect();
        let rebuilt = combine(&some, 3, &public).unwrap();
        assert_eq!(rebuilt.public_key(), public);
    }
    let two = &shares[..2];
    assert_eq!(
        combine(two, 3, &public).err(),
        Some(SealError::TooFewShares { have: 2, need: 3 })
    );
    // The same share twice is still one share.
    let twice = vec![shares[0].clone(), shares[0].clone(), shares[1].clone()];
    assert!(matches!(
        combine(&twice, 3, &public),
        Err(SealError::TooFewShares { have: 2, .. })
    ));
    // Two shares claimed as a threshold of two rebuild some other key, which is caught.
    assert_eq!(combine(two, 2, &public).err(), Some(SealError::WrongShares));
}

#[test]
fn one_of_one_is_the_key_itself_and_still_checked() {
    let key = SecretKey::generate();
    let shares = shares_of(&key, 1, 1);
    let rebuilt = combine(&shares, 1, &key.public_key()).unwrap();
    assert_eq!(rebuilt.public_key(), key.public_key());
    let other = SecretKey::generate();
    assert_eq!(
        combine(&shares, 1, &other.public_key()).err(),
        Some(SealError::WrongShares)
    );
}

#[test]
fn a_share_sealed_to_an_account_opens_with_the_password_only() {
    let account = SecretKey::generate();
    let wrapped = wrap(&account, "pw-of-holder");
    let wave = SecretKey::generate();
    let shares = shares_of(&wave, 1, 1);
    let sealed = seal(&account.public_key(), b"share", &shares[0]).unwrap();
    let unlocked = unwrap(&wrapped, "pw-of-holder").unwrap();
    let share = open(&unlocked, b"share", &sealed).unwrap();
    let rebuilt = combine(&[share], 1, &wave.public_key()).unwrap();
    assert_eq!(rebuilt.public_key(), wave.public_key());
}
