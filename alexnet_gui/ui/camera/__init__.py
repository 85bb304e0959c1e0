"""The Camera tab: live classification of a camera or a video file, and capture into a class."""
