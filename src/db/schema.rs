//! The portable diesel schema, shared by SQLite and PostgreSQL (see `migrations/`).

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    units (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        parent -> Nullable<Text>,
    }
}

diesel::table! {
    people (email) {
        email -> Text,
        name -> Text,
        unit -> Text,
        category -> Text,
        roles -> Text,
    }
}

diesel::table! {
    waves (id) {
        id -> Integer,
        title -> Text,
        survey -> Text,
        fingerprint -> Text,
        scope -> Nullable<Text>,
        state -> Text,
        is_test -> Bool,
        closes_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        opened_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        threshold -> Nullable<Integer>,
        public_key -> Nullable<Binary>,
        unsealed_at -> Nullable<Timestamp>,
        kind -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        wave_id -> Integer,
        person -> Nullable<Text>,
        unit -> Text,
        step -> Text,
        token_hash -> Nullable<Text>,
        used -> Bool,
        reminders -> Integer,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        wave_id -> Integer,
        invitation_id -> Text,
        kind -> Text,
        recipient -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    responses (id) {
        id -> Text,
        wave_id -> Integer,
        unit -> Text,
        answers -> Text,
        comment -> Nullable<Text>,
        is_test -> Bool,
    }
}

diesel::joinable!(people -> units (unit));
diesel::joinable!(invitations -> waves (wave_id));
diesel::joinable!(responses -> waves (wave_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    units,
    people,
    waves,
    invitations,
    responses,
    outbox,
    assessments,
    users,
    login_throttle,
    audit_log,
    tallies,
    unit_totals,
    wave_holders,
    receipts,
    wave_units,
    wave_records,
    moments,
    mail_pace,
    retired_tokens,
    wave_people,
    person_tallies,
    person_reasons,
    summaries,
    person_grades,
    rating_drafts,
    inactive,
);

diesel::allow_columns_to_appear_in_same_group_by_clause!(invitations::unit, outbox::state);

diesel::table! {
    assessments (id) {
        id -> Text,
        wave_id -> Integer,
        unit -> Text,
        step -> Text,
        scorer -> Text,
        answers -> Text,
        evidence -> Text,
        submitted -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        public_key -> Nullable<Binary>,
        key_salt -> Nullable<Binary>,
        sealed_key -> Nullable<Binary>,
        session_epoch -> Integer,
        disabled -> Bool,
        scope -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        username -> Text,
        label -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        per_minute -> Integer,
        window_start -> BigInt,
        window_count -> Integer,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        locked_until -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        detail -> Text,
        scope -> Nullable<Text>,
    }
}

diesel::table! {
    tallies (wave_id, unit, item, choice) {
        wave_id -> Integer,
        unit -> Text,
        item -> Text,
        choice -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    moments (wave_id, unit, scope) {
        wave_id -> Integer,
        unit -> Text,
        scope -> Text,
        respondents -> BigInt,
        sum_y -> Double,
        sum_x -> Double,
        sum_yy -> Double,
        sum_xx -> Double,
        sum_xy -> Double,
    }
}

diesel::table! {
    unit_totals (wave_id, unit) {
        wave_id -> Integer,
        unit -> Text,
        invited -> BigInt,
        responses -> BigInt,
    }
}

diesel::table! {
    wave_holders (wave_id, username) {
        wave_id -> Integer,
        username -> Text,
        share -> Nullable<Binary>,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    receipts (wave_id, code) {
        wave_id -> Integer,
        code -> Text,
    }
}

diesel::table! {
    wave_units (wave_id, code) {
        wave_id -> Integer,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent -> Nullable<Text>,
    }
}

diesel::table! {
    wave_records (wave_id) {
        wave_id -> Integer,
        seq -> Integer,
        body -> Text,
        hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_pace (id) {
        id -> Integer,
        next_at -> Timestamp,
    }
}

diesel::table! {
    retired_tokens (token_hash) {
        token_hash -> Text,
        wave_id -> Integer,
        retired_at -> Timestamp,
    }
}

diesel::table! {
    wave_people (wave_id, person) {
        wave_id -> Integer,
        person -> Text,
        name -> Text,
        unit -> Text,
    }
}

diesel::table! {
    person_tallies (wave_id, person, item, choice) {
        wave_id -> Integer,
        person -> Text,
        item -> Text,
        choice -> Text,
        count -> BigInt,
    }
}

diesel::table! {
    person_reasons (wave_id, person, id) {
        wave_id -> Integer,
        person -> Text,
        id -> Text,
        reason -> Text,
    }
}

diesel::table! {
    summaries (wave_id, person) {
        wave_id -> Integer,
        person -> Text,
        body -> Text,
        submitted -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    person_grades (wave_id, person) {
        wave_id -> Integer,
        person -> Text,
        grade -> Text,
        reason -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    rating_drafts (invitation_id) {
        invitation_id -> Text,
        sealed -> Binary,
    }
}

diesel::table! {
    inactive (kind, key) {
        kind -> Text,
        key -> Text,
        since -> Timestamp,
    }
}
