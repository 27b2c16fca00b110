"""The poll flow: due feeds read, new articles put into stories, alerts planned."""
