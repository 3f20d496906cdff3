"""sendbot: sourced answers from a council's SEND Local Offer and published papers."""

__version__ = "0.1.0"
