@_exported import Runnel
