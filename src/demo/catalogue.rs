//! What the demo contains: its packages and builds.

use super::rpms::{BinaryPackage, ChangelogEntry, DemoBuild, Payload, SourcePackage};

const ALICE: &str = "Alice Packager <alice@example.org>";

pub static HELLO: SourcePackage = SourcePackage {
    name: "hello",
    summary: "Prints a familiar, friendly greeting",
    license: "GPL-3.0-or-later",
    url: "https://www.gnu.org/software/hello/",
    binaries: &[
        BinaryPackage {
            name: "hello",
            arch: "x86_64",
            summary: "Prints a familiar, friendly greeting",
            payload: Payload::Command,
        },
        BinaryPackage {
            name: "hello-doc",
            arch: "noarch",
            summary: "Documentation for hello",
            payload: Payload::Docs,
        },
    ],
};

pub static COLORFUL: SourcePackage = SourcePackage {
    name: "python-colorful",
    summary: "Terminal string styling done right",
    license: "MIT",
    url: "https://github.com/timofurrer/colorful",
    binaries: &[BinaryPackage {
        name: "python3-colorful",
        arch: "noarch",
        summary: "Terminal string styling done right, for Python 3",
        payload: Payload::Python,
    }],
};

pub static LIBFROB: SourcePackage = SourcePackage {
    name: "libfrob",
    summary: "A small library to frobnicate data",
    license: "LGPL-2.1-or-later",
    url: "https://example.org/libfrob",
    binaries: &[
        BinaryPackage {
            name: "libfrob",
            arch: "x86_64",
            summary: "A small library to frobnicate data",
            payload: Payload::Library,
        },
        BinaryPackage {
            name: "libfrob-devel",
            arch: "x86_64",
            summary: "Development files for libfrob",
            payload: Payload::Devel,
        },
    ],
};

pub static ZAPPER: SourcePackage = SourcePackage {
    name: "zapper",
    summary: "Removes stale files from caches",
    license: "MIT",
    url: "https://example.org/zapper",
    binaries: &[BinaryPackage {
        name: "zapper",
        arch: "x86_64",
        summary: "Removes stale files from caches",
        payload: Payload::Command,
    }],
};

pub static FORTUNE: SourcePackage = SourcePackage {
    name: "fortune-lite",
    summary: "A small collection of fortunes",
    license: "CC0-1.0",
    url: "https://example.org/fortune-lite",
    binaries: &[BinaryPackage {
        name: "fortune-lite",
        arch: "noarch",
        summary: "A small collection of fortunes",
        payload: Payload::Data,
    }],
};

pub static NANOEDIT: SourcePackage = SourcePackage {
    name: "nanoedit",
    summary: "A tiny text editor",
    license: "GPL-3.0-or-later",
    url: "https://example.org/nanoedit",
    binaries: &[BinaryPackage {
        name: "nanoedit",
        arch: "x86_64",
        summary: "A tiny text editor",
        payload: Payload::Command,
    }],
};

pub static SOURCES: &[&SourcePackage] =
    &[&HELLO, &COLORFUL, &LIBFROB, &ZAPPER, &FORTUNE, &NANOEDIT];

// Unix times of the changelog entries (2025-2026).
const OCT_2025: u32 = 1_760_000_000;
const DAY: u32 = 86_400;

const fn entry(author: &'static str, day: u32, text: &'static str) -> ChangelogEntry {
    ChangelogEntry {
        author,
        time: OCT_2025 + day * DAY,
        text,
    }
}

pub static BUILDS: &[DemoBuild] = &[
    DemoBuild {
        source: &HELLO,
        version: "2.12.1",
        release: "1.fc43",
        changelog: &[entry(
            "Alice Packager <alice@example.org> - 2.12.1-1",
            2,
            "- Update to 2.12.1",
        )],
    },
    DemoBuild {
        source: &HELLO,
        version: "2.12.1",
        release: "2.fc43",
        changelog: HELLO_2,
    },
    DemoBuild {
        source: &HELLO,
        version: "2.12.1",
        release: "2.fc44",
        changelog: HELLO_2,
    },
    DemoBuild {
        source: &COLORFUL,
        version: "0.5.6",
        release: "1.fc43",
        changelog: &[entry(ALICE, 0, "- Initial package")],
    },
    DemoBuild {
        source: &COLORFUL,
        version: "0.6.0",
        release: "1.fc43",
        changelog: COLORFUL_060,
    },
    DemoBuild {
        source: &COLORFUL,
        version: "0.6.0",
        release: "1.fc44",
        changelog: COLORFUL_060,
    },
    DemoBuild {
        source: &LIBFROB,
        version: "1.4.0",
        release: "1.fc43",
        changelog: &[entry(ALICE, 0, "- Update to 1.4.0")],
    },
    DemoBuild {
        source: &LIBFROB,
        version: "1.4.1",
        release: "1.fc43",
        changelog: LIBFROB_141,
    },
    DemoBuild {
        source: &LIBFROB,
        version: "1.4.1",
        release: "1.fc44",
        changelog: LIBFROB_141,
    },
    DemoBuild {
        source: &ZAPPER,
        version: "3.0",
        release: "1.fc43",
        changelog: &[entry(ALICE, 20, "- Update to 3.0")],
    },
    DemoBuild {
        source: &ZAPPER,
        version: "3.1",
        release: "1.fc43",
        changelog: &[
            entry(
                ALICE,
                30,
                "- Update to 3.1: never removes files younger than a day",
            ),
            entry(ALICE, 20, "- Update to 3.0"),
        ],
    },
    DemoBuild {
        source: &FORTUNE,
        version: "1.0",
        release: "1.fc44",
        changelog: &[entry(ALICE, 25, "- Initial package")],
    },
    DemoBuild {
        source: &FORTUNE,
        version: "1.1",
        release: "1.fc44",
        changelog: &[
            entry(ALICE, 35, "- Update to 1.1: no more duplicate fortunes"),
            entry(ALICE, 25, "- Initial package"),
        ],
    },
    DemoBuild {
        source: &NANOEDIT,
        version: "8.2",
        release: "1.fc43",
        changelog: NANOEDIT_82,
    },
    DemoBuild {
        source: &NANOEDIT,
        version: "8.2",
        release: "1.fc44",
        changelog: NANOEDIT_82,
    },
];

static HELLO_2: &[ChangelogEntry] = &[
    entry(ALICE, 33, "- Fix the greeting's punctuation (rhbz#2400101)"),
    entry(ALICE, 2, "- Update to 2.12.1"),
];

static COLORFUL_060: &[ChangelogEntry] = &[
    entry(ALICE, 15, "- Update to 0.6.0\n- Support 24-bit colours"),
    entry(ALICE, 0, "- Initial package"),
];

static LIBFROB_141: &[ChangelogEntry] = &[
    entry(
        ALICE,
        40,
        "- Update to 1.4.1\n- Fix a heap overflow in frob_parse() (CVE-2026-0001, fixes rhbz#2400001)",
    ),
    entry(ALICE, 0, "- Update to 1.4.0"),
];

static NANOEDIT_82: &[ChangelogEntry] = &[
    entry(ALICE, 38, "- Update to 8.2"),
    entry(ALICE, 10, "- Update to 8.1"),
];
