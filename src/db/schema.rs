//! The diesel schema, written to match both migration trees (`migrations/postgres` and
//! `migrations/sqlite`). Enum columns are `Text`; see [`crate::db::types`].

diesel::table! {
    users (id) {
        id -> Integer,
        name -> Text,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    groups (id) {
        id -> Integer,
        name -> Text,
    }
}

diesel::table! {
    user_groups (user_id, group_id) {
        user_id -> Integer,
        group_id -> Integer,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        label -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    releases (id) {
        id -> Integer,
        name -> Text,
        long_name -> Text,
        version -> Text,
        id_prefix -> Text,
        branch -> Text,
        dist_tag -> Text,
        stable_tag -> Text,
        testing_tag -> Text,
        candidate_tag -> Text,
        pending_signing_tag -> Text,
        pending_testing_tag -> Text,
        pending_stable_tag -> Text,
        override_tag -> Text,
        mail_template -> Text,
        state -> Text,
        composed_by_bodhi -> Bool,
        create_automatic_updates -> Bool,
        package_manager -> Text,
        testing_repository -> Nullable<Text>,
        released_on -> Nullable<Date>,
        eol -> Nullable<Date>,
        setting_status -> Nullable<Text>,
        min_karma -> Nullable<Integer>,
        critpath_min_karma -> Nullable<Integer>,
        mandatory_days_in_testing -> Nullable<Integer>,
        critpath_mandatory_days_in_testing -> Nullable<Integer>,
        announce_list -> Nullable<Text>,
        test_announce_list -> Nullable<Text>,
    }
}

diesel::table! {
    packages (id) {
        id -> Integer,
        name -> Text,
        #[sql_name = "type"]
        type_ -> Text,
    }
}

diesel::table! {
    package_acls (id) {
        id -> Integer,
        package_id -> Integer,
        user_id -> Nullable<Integer>,
        group_id -> Nullable<Integer>,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    updates (id) {
        id -> Integer,
        alias -> Text,
        autokarma -> Bool,
        autotime -> Bool,
        stable_karma -> Integer,
        stable_days -> Integer,
        unstable_karma -> Integer,
        require_bugs -> Bool,
        require_testcases -> Bool,
        display_name -> Text,
        notes -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        status -> Text,
        request -> Nullable<Text>,
        severity -> Text,
        suggest -> Text,
        locked -> Bool,
        pushed -> Bool,
        critpath -> Bool,
        critpath_groups -> Nullable<Text>,
        close_bugs -> Bool,
        date_submitted -> Timestamp,
        date_modified -> Nullable<Timestamp>,
        date_approved -> Nullable<Timestamp>,
        date_testing -> Nullable<Timestamp>,
        date_stable -> Nullable<Timestamp>,
        release_id -> Integer,
        user_id -> Nullable<Integer>,
        test_gating_status -> Nullable<Text>,
        from_tag -> Nullable<Text>,
    }
}

diesel::table! {
    update_counts (release_id, status) {
        release_id -> Integer,
        status -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    builds (id) {
        id -> Integer,
        nvr -> Text,
        signed -> Bool,
        package_id -> Integer,
        release_id -> Nullable<Integer>,
        update_id -> Nullable<Integer>,
        #[sql_name = "type"]
        type_ -> Text,
        epoch -> Nullable<Integer>,
    }
}

diesel::table! {
    bugs (id) {
        id -> Integer,
        bug_id -> Integer,
        title -> Nullable<Text>,
        security -> Bool,
        parent -> Bool,
    }
}

diesel::table! {
    update_bugs (update_id, bug_id) {
        update_id -> Integer,
        bug_id -> Integer,
    }
}

diesel::table! {
    testcases (id) {
        id -> Integer,
        name -> Text,
    }
}

diesel::table! {
    build_testcases (build_id, testcase_id) {
        build_id -> Integer,
        testcase_id -> Integer,
    }
}

diesel::table! {
    comments (id) {
        id -> Integer,
        karma -> Integer,
        karma_critpath -> Integer,
        text -> Text,
        timestamp -> Timestamp,
        update_id -> Integer,
        user_id -> Integer,
    }
}

diesel::table! {
    comment_bug_feedback (id) {
        id -> Integer,
        comment_id -> Integer,
        bug_id -> Integer,
        karma -> Integer,
    }
}

diesel::table! {
    comment_testcase_feedback (id) {
        id -> Integer,
        comment_id -> Integer,
        testcase_id -> Integer,
        karma -> Integer,
    }
}

diesel::table! {
    buildroot_overrides (id) {
        id -> Integer,
        build_id -> Integer,
        submitter_id -> Integer,
        notes -> Text,
        submission_date -> Timestamp,
        expiration_date -> Timestamp,
        expired_date -> Nullable<Timestamp>,
    }
}

diesel::table! {
    composes (id) {
        id -> Integer,
        release_id -> Integer,
        request -> Text,
        state -> Text,
        checkpoints -> Text,
        error_message -> Nullable<Text>,
        date_created -> Timestamp,
        state_date -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        attempts -> Integer,
    }
}

diesel::table! {
    compose_history (id) {
        id -> Integer,
        release_id -> Integer,
        request -> Text,
        content_type -> Nullable<Text>,
        security -> Bool,
        final_state -> Text,
        error_message -> Nullable<Text>,
        date_created -> Timestamp,
        date_finished -> Timestamp,
        timings -> Text,
        update_summary -> Text,
    }
}

diesel::table! {
    jobs (id) {
        id -> Integer,
        kind -> Text,
        payload -> Text,
        dedup_key -> Nullable<Text>,
        state -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_after -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        queue_key -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Integer,
        kind -> Text,
        dedup_key -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    buildsys_events (id) {
        id -> Integer,
        ts -> Timestamp,
    }
}

diesel::table! {
    buildsys_tags (id) {
        id -> Integer,
        name -> Text,
        arches -> Nullable<Text>,
        perm -> Nullable<Text>,
        locked -> Bool,
        extra -> Text,
        create_event -> Integer,
    }
}

diesel::table! {
    buildsys_tag_inheritance (id) {
        id -> Integer,
        tag_id -> Integer,
        parent_id -> Integer,
        priority -> Integer,
        maxdepth -> Nullable<Integer>,
        intransitive -> Bool,
        noconfig -> Bool,
        pkg_filter -> Text,
    }
}

diesel::table! {
    buildsys_builds (id) {
        id -> Integer,
        package_name -> Text,
        version -> Text,
        release -> Text,
        epoch -> Nullable<Integer>,
        nvr -> Text,
        owner_name -> Text,
        state -> Integer,
        task_id -> Nullable<Integer>,
        creation_event -> Integer,
        creation_time -> Timestamp,
        completion_time -> Nullable<Timestamp>,
        source -> Nullable<Text>,
        extra -> Text,
    }
}

diesel::table! {
    buildsys_rpms (id) {
        id -> Integer,
        build_id -> Integer,
        name -> Text,
        version -> Text,
        release -> Text,
        epoch -> Nullable<Integer>,
        arch -> Text,
        size -> BigInt,
        payloadhash -> Text,
        buildtime -> BigInt,
        path -> Text,
    }
}

diesel::table! {
    buildsys_rpm_signatures (id) {
        id -> Integer,
        rpm_id -> Integer,
        sigkey -> Text,
    }
}

diesel::table! {
    buildsys_tag_listing (id) {
        id -> Integer,
        tag_id -> Integer,
        build_id -> Integer,
        create_event -> Integer,
        revoke_event -> Nullable<Integer>,
        creator -> Nullable<Text>,
        revoker -> Nullable<Text>,
    }
}

diesel::table! {
    mail_preferences (user_id) {
        user_id -> Integer,
        notifications -> Bool,
        own_comments -> Bool,
    }
}

diesel::table! {
    mail_mutes (user_id, update_id) {
        user_id -> Integer,
        update_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::joinable!(mail_preferences -> users (user_id));
diesel::joinable!(mail_mutes -> users (user_id));
diesel::joinable!(mail_mutes -> updates (update_id));
diesel::joinable!(user_groups -> users (user_id));
diesel::joinable!(user_groups -> groups (group_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(package_acls -> packages (package_id));
diesel::joinable!(updates -> releases (release_id));
diesel::joinable!(update_counts -> releases (release_id));
diesel::joinable!(updates -> users (user_id));
diesel::joinable!(builds -> packages (package_id));
diesel::joinable!(builds -> updates (update_id));
diesel::joinable!(update_bugs -> updates (update_id));
diesel::joinable!(update_bugs -> bugs (bug_id));
diesel::joinable!(build_testcases -> builds (build_id));
diesel::joinable!(build_testcases -> testcases (testcase_id));
diesel::joinable!(comments -> updates (update_id));
diesel::joinable!(comments -> users (user_id));
diesel::joinable!(comment_testcase_feedback -> comments (comment_id));
diesel::joinable!(comment_testcase_feedback -> testcases (testcase_id));
diesel::joinable!(comment_bug_feedback -> comments (comment_id));
diesel::joinable!(buildroot_overrides -> builds (build_id));
diesel::joinable!(buildroot_overrides -> users (submitter_id));
diesel::joinable!(composes -> releases (release_id));
diesel::joinable!(compose_history -> releases (release_id));
diesel::joinable!(buildsys_rpms -> buildsys_builds (build_id));
diesel::joinable!(buildsys_rpm_signatures -> buildsys_rpms (rpm_id));
diesel::joinable!(buildsys_tag_listing -> buildsys_tags (tag_id));
diesel::joinable!(buildsys_tag_listing -> buildsys_builds (build_id));

diesel::table! {
    odcs_composes (id) {
        id -> Integer,
        owner -> Text,
        source_type -> Integer,
        source -> Text,
        state -> Integer,
        state_reason -> Nullable<Text>,
        koji_event -> Nullable<Integer>,
        packages -> Nullable<Text>,
        builds -> Nullable<Text>,
        sigkeys -> Text,
        arches -> Text,
        flags -> Integer,
        results -> Integer,
        label -> Nullable<Text>,
        compose_type -> Text,
        respin_of -> Nullable<Text>,
        reused_id -> Nullable<Integer>,
        removed_by -> Nullable<Text>,
        time_to_expire -> Timestamp,
        time_submitted -> Timestamp,
        time_started -> Nullable<Timestamp>,
        time_done -> Nullable<Timestamp>,
        time_removed -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    mail_preferences,
    mail_mutes,
    groups,
    user_groups,
    api_tokens,
    releases,
    packages,
    package_acls,
    updates,
    update_counts,
    builds,
    bugs,
    update_bugs,
    testcases,
    build_testcases,
    comments,
    comment_bug_feedback,
    comment_testcase_feedback,
    buildroot_overrides,
    composes,
    compose_history,
    jobs,
    outbox,
    buildsys_events,
    buildsys_tags,
    buildsys_tag_inheritance,
    buildsys_builds,
    buildsys_rpms,
    buildsys_rpm_signatures,
    buildsys_tag_listing,
    secrets,
    oidc_codes,
    oidc_refresh_tokens,
    odcs_composes,
);

diesel::table! {
    secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oidc_codes (id) {
        id -> Integer,
        code_hash -> Text,
        user_id -> Integer,
        client_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oidc_refresh_tokens (id) {
        id -> Integer,
        token_hash -> Text,
        user_id -> Integer,
        client_id -> Text,
        scope -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(oidc_codes -> users (user_id));
diesel::joinable!(oidc_refresh_tokens -> users (user_id));
