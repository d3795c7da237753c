"""greendispatch: dispatch compute work to where and when green electricity is."""

__version__ = "0.1.0"
