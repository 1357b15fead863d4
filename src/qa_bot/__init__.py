"""qa-bot: answers questions from your documents, offline, with citations."""
