"""soviet-art-bot: post one painting of socialist realism every six hours.

The package is one library with two thin shells over it: the ``soviet-art-bot``
command line (:mod:`soviet_art_bot.cli`) and the AWS Lambda handler
(:mod:`soviet_art_bot.handler`). Both call :func:`soviet_art_bot.bot.post`.
"""

__version__ = "0.1.0"
