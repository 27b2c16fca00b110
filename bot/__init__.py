"""storywatch: follows news stories for chats across outlets."""
