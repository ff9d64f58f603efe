pub mod bind_phone;
pub mod me;
