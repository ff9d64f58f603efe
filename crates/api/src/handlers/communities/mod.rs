pub mod by_scene;
