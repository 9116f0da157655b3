"""What is kept on disk: the encrypted vault and its migrations, the key that opens it, the
catalogue of collections and documents, and backups with their schedule."""
