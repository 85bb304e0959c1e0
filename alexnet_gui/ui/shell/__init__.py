"""The window around the views: menus, status bar, drop overlay, banner, help."""
