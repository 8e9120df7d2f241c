"""What the sealed kernel imports (`convgrade`) and how its folder is built (`build`)."""
