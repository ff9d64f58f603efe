pub mod bind_phone;
pub mod me;
pub mod subscribe;
pub mod templates;
