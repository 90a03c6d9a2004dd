//! Nothing here: the check is `tests/read_with_bodhi_crate.rs`, which starts `pipal serve` on
//! the demo data and reads every kind of object through the `bodhi` crate.
