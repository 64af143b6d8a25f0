"""The one exception type that core raises for anything a user can fix."""


class PipelineError(Exception):
    """A problem with the input or the settings, with a message meant for the user.

    The command line prints it as one line on stderr; the dashboard shows it with
    ``st.error``. Programming errors are not wrapped: they stay ordinary exceptions.
    """
