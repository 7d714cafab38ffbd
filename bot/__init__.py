"""Code that runs inside the Rasa server (Python 3.10): input channels."""
