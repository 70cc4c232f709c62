//! `cqlake gen`: a seeded generator of realistic call records (see [`Generator`]).
