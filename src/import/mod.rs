//! Importing another update system's database into Pipal's. Today there is one source:
//! Bodhi's PostgreSQL database (`pipal import bodhi`).

pub mod bodhi;
