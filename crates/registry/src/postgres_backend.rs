//! The PostgreSQL backend (to come).
